// Package overrides reads an instructor's overrides file (overrides.yaml)
// and applies it to a student's results: the instructor's last word on an
// autograded score, per student, on one check or a whole exercise, with a
// comment, who wrote it and when. The autograded value is kept beside the
// final one, and an override is flagged when the verdict it was written
// over has changed since (a regrade after the course or netgrade changed).
// A bad file is refused with the line and column of every mistake, as a
// course file is.
package overrides

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// FileName is the overrides file read beside the course file.
const FileName = "overrides.yaml"

// Override is one adjustment of one student's score.
type Override struct {
	// Student is the student's ID, as batch names them.
	Student string `json:"student"`
	// Exercise is the exercise adjusted, or the exercise of Check.
	Exercise string `json:"exercise"`
	// Check is the full ID of the check adjusted; empty when the override
	// adjusts the exercise as a whole.
	Check string `json:"check,omitempty"`
	// Set, when not nil, replaces the points; Add, when not nil, adds to
	// them (below 0 to take points off). Exactly one is set.
	Set *float64 `json:"set,omitempty"`
	Add *float64 `json:"add,omitempty"`
	// Comment says why, for the student and the gradebook.
	Comment string `json:"comment"`
	// By is who wrote the override; At when.
	By string    `json:"by"`
	At time.Time `json:"at"`
	// Verdict, when the file gives it, is the verdict the override was
	// written over ("fail", or for an exercise its autograded score such as
	// "3/10"): the override is flagged when the verdict is no longer it.
	Verdict string `json:"verdict,omitempty"`
	// Line and Column are where the override starts in its file.
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Target names what an override adjusts: "alice udp-server/log-format" or
// "alice udp-server" (a whole exercise).
func (o Override) Target() string {
	if o.Check != "" {
		return o.Student + " " + o.Check
	}
	return o.Student + " " + o.Exercise
}

// Key identifies an override as written: its student, target, author and
// date. Rewriting an override (a new date) makes it a new one, whose
// verdict is taken anew.
func (o Override) Key() string {
	return strings.Join([]string{o.Student, o.Exercise, o.Check, o.By, o.At.Format(time.RFC3339)}, "\x00")
}

// Change says what the override does, in words: "set to 2", "add -1".
func (o Override) Change() string {
	if o.Set != nil {
		return "set to " + num(*o.Set)
	}
	if o.Add != nil && *o.Add >= 0 {
		return "+" + num(*o.Add)
	}
	if o.Add != nil {
		return num(*o.Add)
	}
	return ""
}

// File is a parsed overrides file.
type File struct {
	// Source is the file's path, for messages.
	Source string
	// Overrides are the file's overrides, in file order.
	Overrides []Override
}

// For returns the overrides of one student, in file order.
func (f *File) For(student string) []Override {
	if f == nil {
		return nil
	}
	var out []Override
	for _, o := range f.Overrides {
		if o.Student == student {
			out = append(out, o)
		}
	}
	return out
}

// Len returns how many overrides the file holds.
func (f *File) Len() int {
	if f == nil {
		return 0
	}
	return len(f.Overrides)
}

// Target is an exercise or a check an override may adjust, with the most
// points it is worth under the course.
type Target struct {
	Exercise string
	// Check is the full check ID; empty for an exercise.
	Check string
	Max   float64
}

// Catalog holds what a course can adjust, by exercise ID and by full
// check ID.
type Catalog map[string]Target

// ErrNoFile is the error of Load for a file that does not exist.
var ErrNoFile = errors.New("no such file")

// Load reads and parses the overrides file at path against the course's
// catalog. A file that does not exist is ErrNoFile (wrapped).
func Load(path string, cat Catalog) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("overrides file %s: %w", path, ErrNoFile)
		}
		return nil, fmt.Errorf("reading the overrides file: %w", err)
	}
	return Parse(path, data, cat)
}
