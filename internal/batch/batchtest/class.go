// Package batchtest generates classes of students for the tests and the
// benchmark of batch grading: folders and .zip archives built from the
// fixtures (passing and failing samples under the course's file names),
// each with the verdicts it must get.
package batchtest

import (
	"archive/zip"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/batch"
)

// Student is a generated student and what their grading must find.
type Student struct {
	// ID is the student ID batch derives from the entry's name.
	ID string
	// Entry is the folder or archive name in the submissions folder.
	Entry string
	// Zip is true when the student hands in an archive.
	Zip bool
	// Fails maps each exercise to the sorted IDs of the checks that must
	// fail (none for a passing fixture or a file not handed in).
	Fails map[string][]string
	// Fixtures names the fixture used for each exercise ("" when the file
	// is missing or the archive is broken).
	Fixtures map[string]string
	// Missing holds the exercises the student hands in no file for: their
	// results must be marked missing, every check skipped.
	Missing map[string]bool
	// Broken is true for a student whose archive is not a zip: a
	// submission batch cannot grade properly (every check fails).
	Broken bool
}

// AnyBroken reports whether one of the students cannot be graded
// properly: a batch of them then ends with its own exit status.
func AnyBroken(students []Student) bool {
	for _, s := range students {
		if s.Broken {
			return true
		}
	}
	return false
}

// names gives students names as they come out of an LMS export: plain,
// with spaces and accents, with characters an ID cannot keep.
var names = []string{
	"student-%02d",
	"Nguyễn Văn An %02d",
	"o'brien.%02d",
	"Marie-Claire_%02d_assignsubmission_file_",
	"%02d+lee@example",
}

// Generate writes a class of n students into dir, built from the fixtures
// of the given exercises (in course order): students take passing and
// failing fixtures in turn, renamed to the course's file names; every
// third student hands in a .zip archive (some wrapping the files in a
// folder), some hand in their files in a sub-folder, one in ten misses an
// exercise, and one hands in an archive that is not a zip.
func Generate(dir string, n int, exs []*graders.Exercise) ([]Student, error) {
	pools := map[string][]fixtures.Fixture{}
	for _, ex := range exs {
		fs, err := fixtures.For(ex.ID)
		if err != nil {
			return nil, err
		}
		if len(fs) == 0 {
			return nil, fmt.Errorf("no fixtures for exercise %s", ex.ID)
		}
		pools[ex.ID] = fs
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []Student
	for i := range n {
		entry := fmt.Sprintf(names[i%len(names)], i)
		s := Student{ID: batch.StudentID(entry), Entry: entry, Fails: map[string][]string{}, Fixtures: map[string]string{}, Missing: map[string]bool{}}
		files := map[string][]byte{}
		prefix := ""
		if i%4 == 1 {
			prefix = "submission/"
		}
		broken := i == 7 && n > 7
		for j, ex := range exs {
			if i%10 == 9 && j == (i/10)%len(exs) {
				s.Missing[ex.ID] = true
				s.Fixtures[ex.ID] = ""
				continue
			}
			pool := pools[ex.ID]
			f := pool[(i*7+j*3)%len(pool)]
			files[prefix+ex.ID+".py"] = f.Source
			s.Fails[ex.ID] = append([]string(nil), f.Fails...)
			s.Fixtures[ex.ID] = f.ID()
		}
		switch {
		case broken:
			s.Entry += ".zip"
			s.Zip, s.Broken = true, true
			clear(s.Missing)
			for _, ex := range exs {
				s.Fails[ex.ID] = allChecks(ex)
				s.Fixtures[ex.ID] = ""
			}
			if err := os.WriteFile(filepath.Join(dir, s.Entry), []byte("this is not a zip archive\n"), 0o644); err != nil {
				return nil, err
			}
		case i%3 == 0:
			s.Entry += ".zip"
			s.Zip = true
			if err := writeZip(filepath.Join(dir, s.Entry), files); err != nil {
				return nil, err
			}
		default:
			for name, data := range files {
				p := filepath.Join(dir, s.Entry, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					return nil, err
				}
				if err := os.WriteFile(p, data, 0o644); err != nil {
					return nil, err
				}
			}
			if len(files) == 0 {
				if err := os.MkdirAll(filepath.Join(dir, s.Entry), 0o755); err != nil {
					return nil, err
				}
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// allChecks returns the sorted IDs of every check of the exercise.
func allChecks(ex *graders.Exercise) []string {
	var ids []string
	for _, c := range ex.Checks {
		ids = append(ids, c.ID)
	}
	sort.Strings(ids)
	return ids
}

// writeZip writes files (name: content) into a new archive, with a junk
// entry of the kind macOS adds.
func writeZip(path string, files map[string][]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			f.Close()
			return err
		}
		if _, err := w.Write(files[n]); err != nil {
			f.Close()
			return err
		}
	}
	if w, err := zw.Create("__MACOSX/._udp-server.py"); err == nil {
		_, _ = w.Write([]byte{0, 5, 22, 7})
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
