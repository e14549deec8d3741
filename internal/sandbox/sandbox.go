// Package sandbox runs the grading of one submission (a "unit": one
// student's files, graded on every exercise of the course) under some
// isolation, and hands back its results.
//
// Three sandboxes exist:
//
//   - process: the graders run inside netgrade itself, the student's
//     programs as plain processes in their own process groups. No isolation:
//     every submission shares the machine's loopback and sees its processes.
//   - netns: netgrade re-executes itself as the unit runner (`netgrade unit`)
//     in new user, network, PID, mount, IPC and UTS namespaces. The unit has
//     its own loopback and nothing else, its own /proc, and every process it
//     started dies with the namespace.
//   - docker: the unit runner (a static netgrade binary, mounted read-only)
//     runs in a container with no network, memory, pids and CPU limits, and
//     the submission mounted read-only.
//
// The unit runner reads a Unit (JSON) and writes one JSON line per graded
// exercise, then a final line saying it is done: a unit whose stream ends
// without that line was cut short and is not taken as graded.
package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/report"
)

// The sandbox kinds, as given to --sandbox.
const (
	Process = "process"
	Netns   = "netns"
	Docker  = "docker"
)

// Kinds returns the sandbox kinds.
func Kinds() []string { return []string{Process, Netns, Docker} }

// Unit is the grading of one submission: a folder and, for each exercise,
// the file in it that is graded.
type Unit struct {
	// Student names the submission in messages.
	Student string `json:"student"`
	// Dir is the submission's folder, as the unit runner sees it.
	Dir string `json:"dir"`
	// Files says which file of Dir is which exercise, in grading order.
	Files []File `json:"files"`
	// Python is the interpreter that runs .py files; empty lets the runner
	// resolve python3 on its own PATH (as in a container).
	Python string `json:"python,omitempty"`
	// Course is what the course says of each exercise of Files: its check
	// settings and run command (nil: the defaults).
	Course Course `json:"course,omitempty"`
	// Sandbox is the name results record for the isolation in force.
	Sandbox string `json:"sandbox"`
	// Version is netgrade's version, written into results.
	Version string `json:"version,omitempty"`
	// TimeoutMS bounds the whole unit; the runner gives up by itself then.
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
}

// File is one exercise of a unit and its file, relative to the unit's Dir.
type File struct {
	Exercise string `json:"exercise"`
	Path     string `json:"path"`
}

// Course is a course as a unit carries it to its runner, by exercise ID:
// the graders.Course the batch was given, written down for the exercises
// of the unit so that it crosses into a sandbox as JSON.
type Course map[string]Entry

// Entry is what a course says of one exercise.
type Entry struct {
	// Settings are the settings of the exercise's checks.
	Settings graders.Settings `json:"settings"`
	// Command, when set, is how the exercise's file is run: a command
	// template whose token {file} is the file's absolute path as the
	// runner sees it and {args} the exercise's arguments; python3 as the
	// first token is the unit's Python. When empty, a .py file runs under
	// python3 and an executable directly.
	Command []string `json:"command,omitempty"`
}

// CourseOf writes down what c says of the exercises (nil for a nil c).
func CourseOf(c graders.Course, exercises ...string) Course {
	if c == nil {
		return nil
	}
	out := make(Course, len(exercises))
	for _, ex := range exercises {
		out[ex] = Entry{Settings: c.Settings(ex), Command: c.Command(ex)}
	}
	return out
}

// Settings returns the settings of exercise's checks (graders.Course).
func (c Course) Settings(exercise string) graders.Settings { return c[exercise].Settings }

// Command returns the command template of exercise's file
// (graders.Course).
func (c Course) Command(exercise string) []string { return c[exercise].Command }

// Timeout returns the unit's time bound.
func (u Unit) Timeout() time.Duration { return time.Duration(u.TimeoutMS) * time.Millisecond }

// Sandbox grades units under one kind of isolation. It is safe for use by
// several goroutines at once.
type Sandbox interface {
	// Name is the kind: process, netns or docker.
	Name() string
	// Isolated reports whether submissions are isolated from each other
	// and from the machine.
	Isolated() bool
	// Grade grades the unit and returns one result per file, in order. An
	// error means netgrade could not grade the unit (never the student's
	// fault); when ctx is cancelled, Grade returns ctx's error and leaves
	// nothing running.
	Grade(ctx context.Context, u Unit) ([]report.Result, error)
	// Close releases what the sandbox holds.
	Close() error
}

// UnitTimeout returns a time bound for grading the given exercises under
// a course (nil: the defaults): every selected check's watchdog deadline,
// as the course sets and scales it, plus slack for starting and stopping
// programs.
func UnitTimeout(exs []*graders.Exercise, course graders.Course) time.Duration {
	const perCheckSlack = 5 * time.Second
	var d time.Duration
	for _, e := range exs {
		for _, t := range e.Deadlines(graders.Options{Course: course}) {
			d += t + perCheckSlack
		}
	}
	return d + 30*time.Second
}

// line is one line of the unit runner's output stream.
type line struct {
	Result *report.Result `json:"result,omitempty"`
	Error  string         `json:"error,omitempty"`
	Done   bool           `json:"done,omitempty"`
}

// errIncomplete is returned when a unit's stream ends before its last line.
var errIncomplete = errors.New("the unit runner stopped before it had graded every exercise")

// readStream reads a unit runner's output: the results, until the line that
// says it is done. It returns errIncomplete if that line never comes.
func readStream(r io.Reader, want int) ([]report.Result, error) {
	dec := json.NewDecoder(r)
	var out []report.Result
	for {
		var l line
		if err := dec.Decode(&l); err != nil {
			if errors.Is(err, io.EOF) {
				return out, errIncomplete
			}
			return out, fmt.Errorf("reading the unit runner's output: %w", err)
		}
		switch {
		case l.Error != "":
			return out, fmt.Errorf("unit runner: %s", l.Error)
		case l.Result != nil:
			out = append(out, *l.Result)
		case l.Done:
			if len(out) != want {
				return out, fmt.Errorf("the unit runner returned %d results for %d exercises", len(out), want)
			}
			return out, nil
		}
	}
}
