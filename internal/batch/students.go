// Package batch grades a whole class: it finds every student's submission
// (a folder, or a .zip archive as learning-management systems export
// them), grades each on every exercise of the course in a sandbox, several
// at a time, and writes one JSON per student as soon as it is done, so
// that an interrupted batch resumes where it stopped. From those files it
// writes the gradebook (grades.csv), per-check pass rates (summary.json)
// and the class report (report.html).
package batch

import (
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Student is one submission of the class.
type Student struct {
	// ID names the student in every output; it is a safe file name made
	// from the folder's or archive's name.
	ID string
	// Source is the student's folder or .zip archive.
	Source string
	// Zip is true when Source is an archive.
	Zip bool
}

// idUnsafe matches what an ID may not hold: anything but letters, digits
// and . _ - @ +.
var idUnsafe = regexp.MustCompile(`[^\p{L}\p{N}._@+-]+`)

// StudentID turns a folder or archive name into a student ID: characters
// that are awkward in file names, URLs or CSV cells become "_".
func StudentID(name string) string {
	id := strings.Trim(idUnsafe.ReplaceAllString(name, "_"), "_")
	if id == "" || strings.Trim(id, ".") == "" {
		return ""
	}
	return id
}

// junk lists names that archivers and file managers leave beside real
// submissions.
func junk(name string) bool {
	return strings.HasPrefix(name, ".") || name == "__MACOSX" || name == "Thumbs.db" || name == "desktop.ini"
}

// Discover lists the students in dir: every folder, and every .zip archive,
// sorted by ID. Two entries with the same ID (alice/ and alice.zip) are an
// error, as netgrade cannot tell which one to grade.
func Discover(dir string) ([]Student, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("submissions: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("submissions: %s is not a folder: give the folder holding one folder or .zip archive per student", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("submissions: %w", err)
	}
	byID := map[string]Student{}
	for _, e := range entries {
		name := e.Name()
		if junk(name) {
			continue
		}
		path := filepath.Join(dir, name)
		info, err := os.Stat(path) // follows a symbolic link to a folder
		if err != nil {
			continue
		}
		var s Student
		switch {
		case info.IsDir():
			s = Student{ID: StudentID(name), Source: path}
		case info.Mode().IsRegular() && strings.EqualFold(filepath.Ext(name), ".zip"):
			s = Student{ID: StudentID(strings.TrimSuffix(name, filepath.Ext(name))), Source: path, Zip: true}
		default:
			continue
		}
		if s.ID == "" {
			return nil, fmt.Errorf("submissions: %q gives no usable student ID: rename it", name)
		}
		if prev, ok := byID[s.ID]; ok {
			return nil, fmt.Errorf("submissions: %s and %s are both student %q: keep one of them", filepath.Base(prev.Source), name, s.ID)
		}
		byID[s.ID] = s
	}
	out := make([]Student, 0, len(byID))
	for _, s := range byID {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Shard is one of N parts of a class (--shard K/N, K counting from 0 as a
// Kubernetes indexed Job's JOB_COMPLETION_INDEX does). The zero value is
// the whole class.
type Shard struct {
	K, N int
}

// ParseShard reads "K/N".
func ParseShard(s string) (Shard, error) {
	ks, ns, ok := strings.Cut(s, "/")
	k, kerr := strconv.Atoi(strings.TrimSpace(ks))
	n, nerr := strconv.Atoi(strings.TrimSpace(ns))
	if !ok || kerr != nil || nerr != nil {
		return Shard{}, fmt.Errorf("--shard %q: give K/N, e.g. 0/4 for the first of four parts", s)
	}
	if n < 1 || k < 0 || k >= n {
		return Shard{}, fmt.Errorf("--shard %q: K counts from 0 and must be below N (0/%d ... %d/%d)", s, max(n, 1), max(n, 1)-1, max(n, 1))
	}
	return Shard{K: k, N: n}, nil
}

// String shows the shard as K/N.
func (s Shard) String() string {
	if s.N <= 1 {
		return "all"
	}
	return fmt.Sprintf("%d/%d", s.K, s.N)
}

// Has reports whether the student is in this shard. Students are spread by
// a hash of their ID, so a student stays in the same shard when others are
// added or removed.
func (s Shard) Has(id string) bool {
	if s.N <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32()%uint32(s.N)) == s.K
}

// Select returns the students of the shard.
func (s Shard) Select(students []Student) []Student {
	var out []Student
	for _, st := range students {
		if s.Has(st.ID) {
			out = append(out, st)
		}
	}
	return out
}
