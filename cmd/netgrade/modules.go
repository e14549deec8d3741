package main

import (
	"context"
	"path/filepath"
	"regexp"

	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/sandbox"
)

// modules says, when a graded program could not import a module, where
// that module can be found: which interpreter of this machine has it, or
// which interpreter (or sandbox image) of the grading machine lacks it.
// One modules serves one grading run: its Finder asks each interpreter
// about each module once.
type modules struct {
	finder *pyenv.Finder
	interp *pyenv.Interpreters
}

// newModules returns the advisor of one grading run; interp resolves the
// interpreter names of run commands (nil: a resolver of its own).
func newModules(interp *pyenv.Interpreters) *modules {
	if interp == nil {
		interp = pyenv.NewInterpreters()
	}
	return &modules{finder: pyenv.NewFinder(nil), interp: interp}
}

// interpreter returns how to name the Python that ran res's program
// ("python3 (/opt/py/bin/python3.11)") and its executable; both "" when
// its command does not start with an interpreter (a file run by its #!).
func (m *modules) interpreter(ctx context.Context, res *report.Result) (string, string) {
	if len(res.Command) == 0 {
		return "", ""
	}
	name := res.Command[0]
	base := filepath.Base(name)
	if base != "python" && base != "python3" && !versionedPython.MatchString(base) {
		return "", ""
	}
	exe, err := m.interp.Resolve(ctx, name)
	if err != nil || exe == name {
		return name, name
	}
	return name + " (" + exe + ")", exe
}

// versionedPython matches python3.X.
var versionedPython = regexp.MustCompile(`^python3\.\d+$`)

// local rewrites the hints of results graded on the student's own machine
// (netgrade check, netgrade grade): command is the netgrade command to run
// again with --python.
func (m *modules) local(ctx context.Context, results []report.Result, command string) {
	for i := range results {
		res := &results[i]
		pyenv.Explain(res, func(mod string) string {
			used, exe := m.interpreter(ctx, res)
			return pyenv.Local(mod, used, command, m.finder.Having(ctx, mod, exe))
		})
	}
}

// grading rewrites the hints of results graded on a grading machine whose
// interpreters are this machine's (Gradescope's autograder, a batch's
// process or netns sandbox).
func (m *modules) grading(ctx context.Context, results []report.Result) {
	for i := range results {
		res := &results[i]
		pyenv.Explain(res, func(mod string) string {
			_, exe := m.interpreter(ctx, res)
			return pyenv.Grader(mod, exe, "", m.finder.Having(ctx, mod, exe))
		})
	}
}

// moduleSandbox is a batch's sandbox whose results say, for a program that
// could not import a module, which interpreter or image of the grading
// machine lacks it.
type moduleSandbox struct {
	sandbox.Sandbox
	m *modules
	// image is the docker sandbox's image ("" for sandboxes that run this
	// machine's interpreters).
	image string
}

// Grade grades the unit in the wrapped sandbox, then explains the
// failures to import a module.
func (s moduleSandbox) Grade(ctx context.Context, u sandbox.Unit) ([]report.Result, error) {
	results, err := s.Sandbox.Grade(ctx, u)
	if err != nil {
		return results, err
	}
	if s.image == "" {
		s.m.grading(ctx, results)
		return results, nil
	}
	for i := range results {
		res := &results[i]
		pyenv.Explain(res, func(mod string) string {
			name := "python3"
			if len(res.Command) > 0 {
				name = res.Command[0]
			}
			fix := "build an image that has it (`make sandbox-image` builds " + sandbox.LocalImage + " with Flask, FastAPI and uvicorn) and name it with --image."
			if s.image == sandbox.LocalImage {
				fix = "rebuild it with `FORCE=1 make sandbox-image`, adding " + pyenv.DebianPackage(mod) + " to its packages if the image does not hold it."
			}
			return pyenv.Grader(mod, name+" in the docker image "+s.image, fix, nil)
		})
	}
	return results, nil
}
