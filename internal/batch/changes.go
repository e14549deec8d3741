package batch

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/report"
)

// previousDir is where, under OUT, a batch keeps the student files it
// replaces: the last grading, which changes.csv compares with.
const previousDir = "previous"

// roundDone marks, in previousDir, a batch that ended: the next batch
// starts a new round, and its previous gradings replace these.
const roundDone = ".done"

// startRound readies OUT/previous for a batch: emptied when the last batch
// ended, so that it holds only what this batch replaces; kept when the
// last batch was interrupted, so that a resumed regrade still compares
// with the grading before it.
func startRound(out string) error {
	dir := filepath.Join(out, previousDir)
	if _, err := os.Stat(filepath.Join(dir, roundDone)); err == nil {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("clearing %s: %w", dir, err)
		}
	}
	return nil
}

// endRound marks the batch's round as ended.
func endRound(out string) error {
	dir := filepath.Join(out, previousDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, roundDone), nil)
}

// PreviousPath returns where the student's last grading is kept while
// this round replaces it.
func PreviousPath(out, id string) string {
	return filepath.Join(out, previousDir, id+".json")
}

// keepPrevious keeps the student's record, about to be replaced, as their
// last grading; a record kept earlier in the round stays (it is older).
func keepPrevious(out, id string) error {
	dst := PreviousPath(out, id)
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	err := copyFile(RecordPath(out, id), dst)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// courseDigest identifies what the course says of the exercises graded:
// each exercise's check settings and run command. A student graded under
// another course entry is graded again.
func courseDigest(opt Options) string {
	h := sha256.New()
	for _, ex := range opt.Exercises {
		var cmd []string
		if opt.Course != nil {
			cmd = opt.Course.Command(ex.ID)
		}
		data, _ := json.Marshal(struct {
			Exercise string           `json:"exercise"`
			Settings graders.Settings `json:"settings"`
			Command  []string         `json:"command"`
		}{ex.ID, graders.SettingsOf(opt.Course, ex.ID), cmd})
		h.Write(data)
		h.Write([]byte{0})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Change is one cell of the gradebook that moved between a student's last
// grading and this one: a check whose verdict or points changed.
type Change struct {
	Student  string `json:"student"`
	Exercise string `json:"exercise"`
	Check    string `json:"check"`
	// Before and After are the check's status then and now; Absent when
	// the check was not graded then or is not now.
	Before string  `json:"before"`
	After  string  `json:"after"`
	PtsWas float64 `json:"points_before"`
	PtsNow float64 `json:"points_after"`
	// Message is the check's message now.
	Message string `json:"message,omitempty"`
	// Hidden is true when the check's name must not reach the student.
	Hidden bool `json:"hidden,omitempty"`
}

// Absent is the verdict of a check a grading does not hold.
const Absent = "absent"

// verdictOf is a check's verdict in changes.csv.
func verdictOf(c report.Check) string {
	if c.Unjudged() {
		return "not judged"
	}
	return string(c.Status)
}

// Diff returns what changed, check by check, between a student's last
// grading and their grading now, for the exercises given (in course
// order, checks in grading order, then those gone).
func Diff(prev, now *Record, exs []*graders.Exercise) []Change {
	var out []Change
	for _, ex := range exs {
		was, _ := prev.Result(ex.ID)
		is, _ := now.Result(ex.ID)
		old := map[string]report.Check{}
		for _, c := range was.Checks {
			old[c.ID] = c
		}
		seen := map[string]bool{}
		for _, c := range is.Checks {
			seen[c.ID] = true
			ch := Change{Student: now.Student, Exercise: ex.ID, Check: c.ID, Before: Absent, After: verdictOf(c), PtsNow: c.Points, Message: c.Message, Hidden: !c.StudentVisible()}
			if o, ok := old[c.ID]; ok {
				ch.Before, ch.PtsWas = verdictOf(o), o.Points
			}
			if ch.Before != ch.After || ch.PtsWas != ch.PtsNow {
				out = append(out, ch)
			}
		}
		for _, c := range was.Checks {
			if !seen[c.ID] {
				out = append(out, Change{Student: now.Student, Exercise: ex.ID, Check: c.ID, Before: verdictOf(c), After: Absent, PtsWas: c.Points, Hidden: !c.StudentVisible()})
			}
		}
	}
	return out
}

// Regrade is what a batch's regrade changed: the students whose last
// grading was kept (Regraded) and the cells that moved.
type Regrade struct {
	Regraded []string `json:"regraded"`
	Changes  []Change `json:"changes"`
}

// ReadRegrade compares every student's grading in out with the last one
// kept in OUT/previous (see Run), for the exercises given.
func ReadRegrade(out string, recs []*Record, exs []*graders.Exercise) (Regrade, error) {
	var rg Regrade
	for _, r := range recs {
		prev, err := ReadRecord(PreviousPath(out, r.Student))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return rg, err
		}
		rg.Regraded = append(rg.Regraded, r.Student)
		rg.Changes = append(rg.Changes, Diff(prev, r, exs)...)
	}
	return rg, nil
}

// ChangesOf returns the changes of one student.
func (rg Regrade) ChangesOf(student string) []Change {
	var out []Change
	for _, c := range rg.Changes {
		if c.Student == student {
			out = append(out, c)
		}
	}
	return out
}

// ChangesCSV returns changes.csv: a header row, then one row per changed
// cell: student, check, verdict before and after, points before and
// after, and the check's message now.
func ChangesCSV(changes []Change) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write([]string{"student", "check", "before", "after", "points_before", "points_after", "message"}); err != nil {
		return nil, err
	}
	for _, c := range changes {
		row := []string{csvSafe(c.Student), csvSafe(c.Check), c.Before, c.After, num(c.PtsWas), num(c.PtsNow), csvSafe(c.Message)}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// changeNotes says on a student's page what changed since their last
// grading, one line per check (a hidden check not named).
func changeNotes(changes []Change) []string {
	var out []string
	for _, c := range changes {
		name := c.Check
		if c.Hidden {
			name = "a hidden check of " + c.Exercise
		}
		out = append(out, fmt.Sprintf("changed since the last grading: %s: %s → %s (%s → %s points)", name, c.Before, c.After, num(c.PtsWas), num(c.PtsNow)))
	}
	return out
}
