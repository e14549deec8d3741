package batch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/sandbox"
)

// RecordSchema is the version of a student's JSON file.
const RecordSchema = 1

// Record is what OUT/students/ID.json holds: the grading of one student on
// every exercise. Its presence means the student is done.
type Record struct {
	Schema  int    `json:"schema"`
	Student string `json:"student"`
	// Source is the folder or archive that was graded (its base name).
	Source string `json:"source"`
	// Digest identifies the submission's content; a submission whose
	// digest changed is graded again.
	Digest string `json:"digest"`
	// Sandbox is the isolation the student was graded under; SandboxNote
	// says why it is not the one asked for, if so.
	Sandbox     string `json:"sandbox"`
	SandboxNote string `json:"sandbox_note,omitempty"`
	// Problem says why the submission could not be graded properly, when
	// so: an archive that cannot be unpacked, a folder with no exercise
	// file, a source file Python cannot read. The instructor is told at
	// the end of the batch and in summary.json.
	Problem string `json:"problem,omitempty"`
	// Files says, per exercise, which file of the submission was graded,
	// by which name or pattern of the course, and the other candidates
	// no exercise took.
	Files []FoundFile `json:"files,omitempty"`
	// NotGraded are the source files of the submission that no exercise
	// took: handed in, not graded.
	NotGraded []string `json:"handed_in_not_graded,omitempty"`
	// Unreadable are the exercises whose file Python cannot read (not
	// UTF-8): not graded properly.
	Unreadable []string `json:"unreadable,omitempty"`
	Score      float64  `json:"score"`
	MaxScore   float64  `json:"max_score"`
	// Results holds one result per exercise of the course, in course order
	// (schema 1 results).
	Results    []report.Result `json:"results"`
	GradedAt   time.Time       `json:"graded_at"`
	DurationMS int64           `json:"duration_ms"`
	Version    string          `json:"netgrade_version,omitempty"`
	// Course identifies the course's entries the student was graded under
	// (check settings and run command of each exercise): a student graded
	// under other entries, or by another netgrade, is graded again.
	Course string `json:"course_digest,omitempty"`

	// adjusted holds the exercises an instructor's override scored as a
	// whole: graded, whatever the grading found (see applyOverrides).
	adjusted map[string]bool
}

// Complete reports whether the record is a finished grading: every check
// got a verdict of the student's (none is netgrade's own error). A record
// with errors is graded again on the next run.
func (r *Record) Complete() bool {
	for _, res := range r.Results {
		if res.HasErrors() {
			return false
		}
	}
	return len(r.Results) > 0
}

// setFound records what the finder found, for the exercises graded.
func (r *Record) setFound(f Found, exs []*graders.Exercise) {
	r.Files = nil
	for _, ff := range f.Files {
		if slices.ContainsFunc(exs, func(e *graders.Exercise) bool { return e.ID == ff.Exercise }) {
			r.Files = append(r.Files, ff)
		}
	}
	r.NotGraded = f.NotGraded
}

// Found returns what the finder found in the student's submission, as
// recorded.
func (r *Record) Found() Found { return Found{Files: r.Files, NotGraded: r.NotGraded} }

// tally sets the record's score from its results.
func (r *Record) tally() {
	r.Score, r.MaxScore = 0, 0
	for _, res := range r.Results {
		r.Score += res.Score
		r.MaxScore += res.MaxScore
	}
}

// Result returns the record's result for an exercise.
func (r *Record) Result(exercise string) (report.Result, bool) {
	for _, res := range r.Results {
		if res.Exercise == exercise {
			return res, true
		}
	}
	return report.Result{}, false
}

// studentsDir is where the per-student files go, under OUT.
const studentsDir = "students"

// RecordPath returns the path of a student's JSON file under out.
func RecordPath(out, id string) string {
	return filepath.Join(out, studentsDir, id+".json")
}

// PagePath returns the path of a student's HTML page under out.
func PagePath(out, id string) string {
	return filepath.Join(out, studentsDir, id+".html")
}

// ReadRecord reads a student's JSON file.
func ReadRecord(path string) (*Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s is not a netgrade student file: %w", path, err)
	}
	if r.Schema != RecordSchema || r.Student == "" {
		return nil, fmt.Errorf("%s is not a netgrade student file (schema %d)", path, r.Schema)
	}
	return &r, nil
}

// ReadRecords reads every student file under out, sorted by student. A
// file that cannot be read is an error: it is not silently dropped from
// the gradebook.
func ReadRecords(out string) ([]*Record, error) {
	dir := filepath.Join(out, studentsDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var recs []*Record
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") || filepath.Ext(e.Name()) != ".json" {
			continue
		}
		r, err := ReadRecord(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if r.Student+".json" != e.Name() {
			return nil, fmt.Errorf("%s holds student %q: the file name and the student must agree", filepath.Join(dir, e.Name()), r.Student)
		}
		recs = append(recs, r)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Student < recs[j].Student })
	return recs, nil
}

// encodeRecord returns the record as indented JSON.
func encodeRecord(r *Record) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// folder, synced, then renamed: a reader (or a resumed batch after a crash
// or power loss) sees the whole file or none.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	_ = d.Sync() // not every file system syncs directories; the rename stands
	return nil
}

// removeTemps deletes temporary files an interrupted run left in dir.
func removeTemps(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") && strings.Contains(e.Name(), ".tmp-") {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// archiveDigest returns a digest of an archive's bytes.
func archiveDigest(path string) (string, error) {
	h := sha256.New()
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// filesDigest returns a digest of the graded files of a folder: which file
// is which exercise, and their contents; and of what else the finder
// reported, so that a file added beside them is seen on the next run.
func filesDigest(dir string, files []sandbox.File, found Found) (string, error) {
	h := sha256.New()
	for _, n := range found.Notes() {
		fmt.Fprintf(h, "%s\x00", n)
	}
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%s\x00", f.Exercise, f.Path)
		if f.Path == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%d\x00", len(data))
		h.Write(data)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
