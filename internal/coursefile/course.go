// Package course reads a course file: the YAML document that says which
// exercises a course grades, which file of a student's folder is which
// exercise, how a file is run, the points, visibility and deadlines of
// checks, and the texts the course fixes. The default course is embedded;
// a course file replaces it. A bad file is refused with the file, line and
// column of every mistake and what is allowed there.
package coursefile

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/harness"
)

// Course is a parsed course file.
type Course struct {
	// Name is the course's name, for reports.
	Name string
	// Similarity sets the similarity analysis of a class.
	Similarity Similarity
	// Source names where the course came from: a file path or DefaultName.
	Source string
	// Run says how a submission file is run, unless its exercise says
	// otherwise.
	Run Run
	// TimeoutScale multiplies every deadline of a grading.
	TimeoutScale float64
	// Python is the interpreter that replaces python3 in run commands, when
	// the course names one (SetPython).
	Python string
	// Exercises are the exercises the course grades, in course order.
	Exercises []*Entry
	// Interop, when set, turns the class interop matrix into points
	// (`netgrade interop`); nil leaves every grade alone.
	Interop *Interop
}

// Interop is the course's `interop:` setting: at most Points per pair of
// exercises, half for a student's server and half for their client, in
// proportion to the classmates each talked to; a side that met fewer than
// MinPartners classmates gets its half whole.
type Interop struct {
	Points      float64
	MinPartners int
}

// SetPython makes path the interpreter of every run command that starts
// with python3 (the course's and each exercise's), for a course whose
// submissions need another Python than the one on PATH (Flask and FastAPI
// are installed for Debian's /usr/bin/python3, say). An empty path changes
// nothing. The course file's `python:` key and the --python flag set it.
func (c *Course) SetPython(path string) {
	if path == "" {
		return
	}
	c.Python = path
	swap := func(r *Run) {
		if len(r.Command) > 0 && r.Command[0] == "python3" {
			r.Command = append([]string{path}, r.Command[1:]...)
		}
	}
	swap(&c.Run)
	for _, e := range c.Exercises {
		if e.Run != nil {
			swap(e.Run)
		}
	}
}

// Run says how a submission file is run.
type Run struct {
	// Command is the command template, split at spaces: {file} is the
	// submission file, {args} the exercise's arguments.
	Command []string
	// DirectWhenExecutable runs a file with its run bit that starts with #!
	// (or is an ELF binary) directly, with the exercise's arguments.
	DirectWhenExecutable bool
	// RaceHook runs Python programs, in the checks that judge shared state,
	// under netgrade's race hook, which makes races show every time.
	RaceHook bool
}

// Entry is one exercise of a course file, as the course lists it.
type Entry struct {
	// ID is the exercise's ID, e.g. "udp-server".
	ID string
	// File is the first of Files: the name messages give for the
	// exercise's file.
	File string
	// Files are the names and glob patterns (path.Match syntax) a
	// student's file of this exercise may have, first first: the first
	// one that matches a file of the student's folder, at any depth the
	// finder searches, takes it (see batch.Find).
	Files []string
	// Run replaces the course's Run for this exercise when not nil.
	Run *Run
	// Texts replace the exercise's default texts, by name.
	Texts map[string]string
	// Checks are the settings of single checks, by full check ID.
	Checks map[string]graders.CheckSettings
	// Grader is the exercise as this netgrade grades it.
	Grader *graders.Exercise
}

// ErrNoFile is the error of Load for a course file that does not exist.
var ErrNoFile = errors.New("no such file")

// Load reads and parses the course file at path against the exercises of
// reg. A file that does not exist is ErrNoFile (wrapped).
func Load(path string, reg *graders.Registry) (*Course, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("course file %s: %w", path, ErrNoFile)
		}
		return nil, fmt.Errorf("reading the course file: %w", err)
	}
	return Parse(path, data, reg)
}

// Exercise returns the course's exercise with the given ID, or nil.
func (c *Course) Exercise(id string) *Entry {
	for _, e := range c.Exercises {
		if e.ID == id {
			return e
		}
	}
	return nil
}

// IDs returns the IDs of the course's exercises, in course order.
func (c *Course) IDs() []string {
	ids := make([]string, 0, len(c.Exercises))
	for _, e := range c.Exercises {
		ids = append(ids, e.ID)
	}
	return ids
}

// Settings returns the course's settings for exercise id: texts, points,
// checks turned off, visibility, deadlines, the timeout scale and the race
// hook. An exercise the course does not list gets the course's timeout
// scale and race hook only.
func (c *Course) Settings(id string) graders.Settings {
	if c == nil {
		return graders.Settings{}
	}
	s := graders.Settings{TimeoutScale: c.TimeoutScale, NoRaceHook: !c.Run.RaceHook}
	if e := c.Exercise(id); e != nil {
		s.Texts = maps.Clone(e.Texts)
		s.Checks = maps.Clone(e.Checks)
		if e.Run != nil {
			s.NoRaceHook = !e.Run.RaceHook
		}
	}
	return s
}

// Command returns the command template that runs a student's file of
// exercise id ({file}, {args}; see Run), as the course says files run:
// the exercise's own Run, else the course's. With Settings, it makes a
// Course a graders.Course.
func (c *Course) Command(id string) []string {
	if c == nil {
		return nil
	}
	run := c.Run
	if e := c.Exercise(id); e != nil && e.Run != nil {
		run = *e.Run
	}
	return run.Command
}

// A course file is what a grading takes from a course.
var _ graders.Course = (*Course)(nil)

// Submission returns the submission that runs the file at path (as the
// user named it) for exercise e, as the course says files are run.
func (c *Course) Submission(e *Entry, path string) (graders.Submission, error) {
	st, err := os.Stat(path)
	if err != nil {
		return graders.Submission{}, fmt.Errorf("submission file: %w", err)
	}
	if st.IsDir() {
		return graders.Submission{}, fmt.Errorf("submission file %s is a directory; give the program file itself", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return graders.Submission{}, fmt.Errorf("submission file: %w", err)
	}
	run := c.Run
	if e.Run != nil {
		run = *e.Run
	}
	args := e.Grader.Args
	var argv []string
	if run.DirectWhenExecutable && runsDirectly(abs, st.Mode()) {
		argv = append([]string{abs}, args...)
	} else {
		argv = harness.FileTemplate(run.Command, abs, args)
	}
	return graders.Submission{Name: path, Command: argv, Dir: filepath.Dir(abs), File: path}, nil
}

// runsDirectly reports whether a file can be executed as it is: its run
// bit is set and it starts with #! or is an ELF binary.
func runsDirectly(path string, mode os.FileMode) bool {
	if mode&0o111 == 0 {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := f.Read(head)
	head = head[:n]
	return strings.HasPrefix(string(head), "#!") || string(head) == "\x7fELF"
}

// placeholderRe finds the {name} placeholders of a text.
var placeholderRe = regexp.MustCompile(`\{([a-z_]+)\}`)

// placeholders returns the placeholder names of a text, sorted, unique.
func placeholders(s string) []string {
	var out []string
	for _, m := range placeholderRe.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out
}

// isPattern reports whether a text is a regular expression: by convention
// its name ends in _pattern.
func isPattern(name string) bool { return strings.HasSuffix(name, "_pattern") }
