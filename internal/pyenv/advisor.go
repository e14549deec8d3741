package pyenv

import (
	"context"

	"github.com/netgrade/netgrade/internal/report"
)

// Advisor makes the hint of a check whose program could not import a
// module: where that module can be found, which interpreter of this
// machine has it, or which interpreter of the grading machine lacks it.
// It replaces the check's own hint, which is about a program that ran.
// One Advisor serves one grading run: it asks each interpreter about each
// module once.
type Advisor struct {
	finder *Finder
	interp *Interpreters
}

// NewAdvisor returns the advisor of one grading run; interp resolves the
// interpreter names of run commands (nil: a resolver of its own).
func NewAdvisor(interp *Interpreters) *Advisor {
	if interp == nil {
		interp = NewInterpreters()
	}
	return &Advisor{finder: NewFinder(nil), interp: interp}
}

// interpreter returns how to name the Python that ran res's program
// ("python3 (/opt/py/bin/python3.11)") and its executable; both "" when
// its command does not start with an interpreter (a file run by its #!).
func (a *Advisor) interpreter(ctx context.Context, res *report.Result) (string, string) {
	if len(res.Command) == 0 || !isPython(res.Command[0]) {
		return "", ""
	}
	name := res.Command[0]
	exe, err := a.interp.Resolve(ctx, name)
	if err != nil || exe == name {
		return name, name
	}
	return name + " (" + exe + ")", exe
}

// Local rewrites the hints of results graded on the student's own machine
// (netgrade check, netgrade grade): command is the netgrade command to run
// again with --python.
func (a *Advisor) Local(ctx context.Context, results []report.Result, command string) {
	for i := range results {
		res := &results[i]
		Explain(res, func(mod string) string {
			used, exe := a.interpreter(ctx, res)
			return Local(mod, used, command, a.finder.Having(ctx, mod, exe))
		})
	}
}

// Grading rewrites the hints of results graded on a grading machine whose
// interpreters are this machine's (Gradescope's autograder, a batch's
// process or netns sandbox).
func (a *Advisor) Grading(ctx context.Context, results []report.Result) {
	for i := range results {
		res := &results[i]
		Explain(res, func(mod string) string {
			_, exe := a.interpreter(ctx, res)
			return Grader(mod, exe, "", a.finder.Having(ctx, mod, exe))
		})
	}
}

// InImage rewrites the hints of results graded in a container image whose
// interpreters this machine cannot ask: the image's Python lacks the
// module, and fix(module) says what the instructor can do about it.
func InImage(results []report.Result, image string, fix func(module string) string) {
	for i := range results {
		res := &results[i]
		Explain(res, func(mod string) string {
			name := "python3"
			if len(res.Command) > 0 {
				name = res.Command[0]
			}
			return Grader(mod, name+" in the docker image "+image, fix(mod), nil)
		})
	}
}
