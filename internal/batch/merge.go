package batch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// MergeOutcome is what a merge did.
type MergeOutcome struct {
	// Students in the merged folder.
	Students int
	// Duplicates are students found in more than one input: the one graded
	// last is kept.
	Duplicates []string
}

// Merge joins the student files (JSON and page) of several batch outputs,
// such as the shards of a class, into dest, keeping for a student found in
// several the grading done last. Student files already in dest count as one
// more input. The caller then writes dest's class files (WriteClassFiles).
func Merge(inputs []string, dest string) (*MergeOutcome, error) {
	if len(inputs) == 0 {
		return nil, errors.New("merge: give the batch output folders to merge")
	}
	if st, err := os.Stat(filepath.Join(dest, studentsDir)); err == nil && st.IsDir() {
		inputs = append([]string{dest}, inputs...)
	}
	type pick struct {
		rec *Record
		dir string
	}
	chosen := map[string]pick{}
	out := &MergeOutcome{}
	for _, in := range inputs {
		if st, err := os.Stat(filepath.Join(in, studentsDir)); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("merge: %s is not a netgrade batch output (it has no %s folder)", in, studentsDir)
		}
		recs, err := ReadRecords(in)
		if err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		for _, r := range recs {
			if prev, ok := chosen[r.Student]; ok {
				if sameDir(prev.dir, in) {
					continue
				}
				out.Duplicates = append(out.Duplicates, r.Student)
				if !r.GradedAt.After(prev.rec.GradedAt) {
					continue
				}
			}
			chosen[r.Student] = pick{rec: r, dir: in}
		}
	}
	unlock, err := lockOut(dest)
	if err != nil {
		return nil, err
	}
	defer unlock()
	for id, p := range chosen {
		if sameDir(p.dir, dest) {
			continue
		}
		if err := copyFile(PagePath(p.dir, id), PagePath(dest, id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("merge: %w", err)
		}
		if err := copySources(p.dir, dest, id); err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		if err := copyFile(RecordPath(p.dir, id), RecordPath(dest, id)); err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
	}
	out.Students = len(chosen)
	return out, nil
}

// sameDir reports whether two paths name the same folder.
func sameDir(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// copyFile copies src to dst atomically.
func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return WriteFileAtomic(dst, data)
}
