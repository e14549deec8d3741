package batch

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ZipLimits bound what one student's archive may unpack to: a submission
// is a handful of small source files, and an archive is untrusted input.
type ZipLimits struct {
	// Files is the most entries an archive may hold.
	Files int
	// FileBytes is the most one file may unpack to.
	FileBytes int64
	// TotalBytes is the most the whole archive may unpack to.
	TotalBytes int64
}

// DefaultZipLimits returns limits generous for source files and small for
// anything else: 1000 entries, 8 MiB a file, 32 MiB in all.
func DefaultZipLimits() ZipLimits {
	return ZipLimits{Files: 1000, FileBytes: 8 << 20, TotalBytes: 32 << 20}
}

// ErrArchive marks an archive netgrade refuses or cannot read: the
// student's fault, reported in their grade.
var ErrArchive = errors.New("bad archive")

// Extract unpacks the archive into dir (which must exist), safely: entry
// names that are absolute or climb out of dir ("../") are refused, symbolic
// links and special files are skipped, and the limits are enforced on the
// bytes actually written, not on what the archive claims. Backslashes in
// names (archives made on Windows) are taken as separators.
func Extract(archive, dir string, lim ZipLimits) error {
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return fmt.Errorf("%w: %s cannot be read as a zip archive: %v", ErrArchive, filepath.Base(archive), err)
	}
	defer zr.Close()
	if len(zr.File) > lim.Files {
		return fmt.Errorf("%w: %s holds %d entries, more than the %d allowed", ErrArchive, filepath.Base(archive), len(zr.File), lim.Files)
	}
	var total int64
	for _, f := range zr.File {
		name := strings.ReplaceAll(f.Name, `\`, "/")
		clean := path.Clean(strings.TrimSuffix(name, "/"))
		if clean == "." {
			continue
		}
		if strings.HasPrefix(name, "/") || !filepath.IsLocal(filepath.FromSlash(clean)) {
			return fmt.Errorf("%w: %s has an entry %q that points outside the archive's folder", ErrArchive, filepath.Base(archive), f.Name)
		}
		if first, _, _ := strings.Cut(clean, "/"); first == "__MACOSX" {
			continue
		}
		target := filepath.Join(dir, filepath.FromSlash(clean))
		mode := f.Mode()
		switch {
		case mode.IsDir():
			if err := os.MkdirAll(target, 0o755); err != nil {
				return fmt.Errorf("unpacking %s: %w", filepath.Base(archive), err)
			}
			continue
		case !mode.IsRegular():
			continue // symbolic links, devices, pipes: never created
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return fmt.Errorf("unpacking %s: %w", filepath.Base(archive), err)
		}
		n, err := extractFile(f, target, mode, min(lim.FileBytes, lim.TotalBytes-total))
		total += n
		if err != nil {
			if errors.Is(err, errTooBig) {
				return fmt.Errorf("%w: %s unpacks to more than allowed (%s a file, %s in all)", ErrArchive, filepath.Base(archive), size(lim.FileBytes), size(lim.TotalBytes))
			}
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%w: %s holds %q twice", ErrArchive, filepath.Base(archive), clean)
			}
			return fmt.Errorf("%w: %s: %s: %v", ErrArchive, filepath.Base(archive), clean, err)
		}
	}
	return nil
}

var errTooBig = errors.New("too big")

// extractFile writes one entry, at most limit bytes of it.
func extractFile(f *zip.File, target string, mode fs.FileMode, limit int64) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	perm := fs.FileMode(0o644)
	if mode&0o111 != 0 {
		perm = 0o755
	}
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, io.LimitReader(rc, limit+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > limit {
		err = errTooBig
	}
	if err != nil {
		// The byte past the limit (or a file cut by a corrupt entry)
		// stays on disk no longer than the refusal.
		_ = os.Remove(target)
		return n, err
	}
	return n, nil
}

// size shows a byte count in MiB.
func size(n int64) string {
	return fmt.Sprintf("%d MiB", n>>20)
}
