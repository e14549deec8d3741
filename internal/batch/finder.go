package batch

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

// Finder finds the file of an exercise in a student's folder. It returns
// the file's path relative to dir (with forward slashes), or "" when the
// student handed in no file for that exercise.
type Finder func(dir, exercise string) (string, error)

// maxFindDepth is how deep below a student's folder files are looked for:
// archives often hold a folder that holds the files.
const maxFindDepth = 3

// NamesFinder returns a Finder that looks for the file the names function
// gives for an exercise (for the default course, "EXERCISE.py"): at the top
// of the student's folder or in folders below it (archives often wrap the
// files in a folder), the shallowest first, then in name order. Hidden
// folders and __MACOSX are not searched.
func NamesFinder(names func(exercise string) []string) Finder {
	return func(dir, exercise string) (string, error) {
		want := map[string]bool{}
		for _, n := range names(exercise) {
			want[n] = true
		}
		if len(want) == 0 {
			return "", nil
		}
		var found []string
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == dir {
					return err
				}
				return nil // an unreadable sub-folder is skipped
			}
			rel, _ := filepath.Rel(dir, p)
			depth := strings.Count(filepath.ToSlash(rel), "/")
			if d.IsDir() {
				if p != dir && (junk(d.Name()) || depth >= maxFindDepth) {
					return filepath.SkipDir
				}
				return nil
			}
			if want[d.Name()] && d.Type().IsRegular() {
				found = append(found, filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("looking for the %s file: %w", exercise, err)
		}
		if len(found) == 0 {
			return "", nil
		}
		sort.Slice(found, func(i, j int) bool {
			di, dj := strings.Count(found[i], "/"), strings.Count(found[j], "/")
			if di != dj {
				return di < dj
			}
			return found[i] < found[j]
		})
		return found[0], nil
	}
}

// DefaultNames is the default course's file naming: exercise udp-server is
// udp-server.py.
func DefaultNames(exercise string) []string { return []string{exercise + ".py"} }

// errNoFinder is returned when Options has no Finder.
var errNoFinder = errors.New("batch: no Finder given")
