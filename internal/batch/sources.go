package batch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/netgrade/netgrade/internal/sandbox"
)

// sourcesDir is where a copy of each student's graded files is kept,
// under OUT: what `netgrade similarity OUT` reads, so that a class can be
// compared again without its submissions folder (archives are unpacked
// only while graded).
const sourcesDir = "sources"

// SourcePath returns where the copy of a student's graded file (its path
// in the submission, with forward slashes) is kept under out.
func SourcePath(out, id, file string) string {
	return filepath.Join(out, sourcesDir, id, filepath.FromSlash(file))
}

// keepSources replaces the copy of a student's graded files under out with
// the files now graded, read from the student's folder dir.
func keepSources(out, id, dir string, files []sandbox.File) error {
	root := filepath.Join(out, sourcesDir, id)
	if err := os.RemoveAll(root); err != nil {
		return fmt.Errorf("keeping the files of %s: %w", id, err)
	}
	for _, f := range files {
		if f.Path == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			return fmt.Errorf("keeping the files of %s: %w", id, err)
		}
		dst := SourcePath(out, id, f.Path)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("keeping the files of %s: %w", id, err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return fmt.Errorf("keeping the files of %s: %w", id, err)
		}
	}
	return nil
}

// copySources copies a student's kept files from one output to another
// (a merge); an output without them is no error.
func copySources(from, to, id string) error {
	src := filepath.Join(from, sourcesDir, id)
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	dst := filepath.Join(to, sourcesDir, id)
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	return os.CopyFS(dst, os.DirFS(src))
}
