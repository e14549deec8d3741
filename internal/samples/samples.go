// Package samples lists the submissions netgrade grades to prove itself:
// each exercise's reference implementation and its fixtures, written as
// students hand them in, each with the checks it declares it fails. The
// demo, the flake guard and the tests grade the same list the same way.
package samples

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/report"
)

// Sample is one submission to grade, with the verdict it declares.
type Sample struct {
	graders.Job
	// ID is "EXERCISE/reference" or the fixture's ID, "EXERCISE/NAME.py".
	ID string
	// Fails are the checks the sample declares it fails, sorted; none:
	// full marks.
	Fails []string
	// About says what the sample is.
	About string
	// Requires are the Python modules the fixture needs (a framework).
	Requires []string
	// Missing is set when no interpreter on this machine has them: the
	// sample cannot be graded here (its command is python3's).
	Missing error
}

// Name is the sample's name within its exercise: "reference" or the
// fixture's file name.
func (s *Sample) Name() string { return path.Base(s.ID) }

// Reference reports whether the sample is the reference implementation.
func (s *Sample) Reference() bool { return s.Name() == "reference" }

// Failed returns the sorted IDs of the checks the sample's result failed.
func (s *Sample) Failed() []string { return s.Result.IDs(report.Fail) }

// AsDeclared reports whether the sample's result fails exactly the checks
// it declares, and netgrade erred on none.
func (s *Sample) AsDeclared() bool {
	return slices.Equal(s.Failed(), s.Fails) && !s.Result.HasErrors()
}

// Pick chooses which fixtures of an exercise to grade.
type Pick func(ex *graders.Exercise, fs []fixtures.Fixture) []fixtures.Fixture

// List returns, for each exercise in order, its reference implementation
// (run as `self ref EXERCISE`, self being a netgrade binary) and its
// fixtures, the ones pick keeps (all when pick is nil). Each fixture is
// written into a folder of its own under dir, as some keep a file next to
// themselves. A fixture that requires modules (a framework) runs under the
// first interpreter that has them (fixtures.Pythons); when none has, its
// sample's Missing says so. One that must not find a module runs with its
// PythonFlags.
func List(dir, self string, exs []*graders.Exercise, pick Pick) ([]*Sample, error) {
	var list []*Sample
	pythons := fixtures.NewPythons()
	for _, ex := range exs {
		list = append(list, &Sample{
			Job: graders.Job{Exercise: ex, Submission: graders.Submission{
				Name: "reference:" + ex.ID, Command: []string{self, "ref", ex.ID}}},
			ID:    ex.ID + "/reference",
			About: "netgrade's reference implementation",
		})
		fs, err := fixtures.For(ex.ID)
		if err != nil {
			return nil, fmt.Errorf("the fixtures of %s: %w", ex.ID, err)
		}
		if pick != nil {
			fs = pick(ex, fs)
		}
		for _, f := range fs {
			fdir := filepath.Join(dir, ex.ID, strings.TrimSuffix(f.Name, ".py"))
			if err := os.MkdirAll(fdir, 0o755); err != nil {
				return nil, fmt.Errorf("writing fixture %s: %w", f.ID(), err)
			}
			file, err := f.Write(fdir)
			if err != nil {
				return nil, fmt.Errorf("writing fixture %s: %w", f.ID(), err)
			}
			sub, err := graders.FileSubmission(file)
			if err != nil {
				return nil, fmt.Errorf("fixture %s: %w", f.ID(), err)
			}
			sub.Name = "fixtures/" + f.ID()
			smp := &Sample{Job: graders.Job{Exercise: ex, Submission: sub}, ID: f.ID(), Fails: f.Fails, About: f.About, Requires: f.Requires}
			if len(f.Texts) > 0 {
				smp.Course = graders.Settings{Texts: f.Texts}
			}
			smp.Submission.Command = f.Command(sub.Command)
			if len(f.Requires) > 0 {
				py, err := pythons.For(context.Background(), f.Requires)
				if err != nil {
					smp.Missing = err
				} else if len(sub.Command) > 0 && sub.Command[0] == "python3" {
					smp.Submission.Command = append([]string{py}, sub.Command[1:]...)
				}
			}
			list = append(list, smp)
		}
	}
	return list, nil
}

// Jobs returns the jobs of the samples, for graders.GradeAll: grading them
// stores each result in its sample.
func Jobs(list []*Sample) []*graders.Job {
	jobs := make([]*graders.Job, len(list))
	for i, s := range list {
		jobs[i] = &s.Job
	}
	return jobs
}

// Grade grades the samples, n at a time, with one set of options (the
// ports and interpreters shared as in one grading run), storing each
// result in its sample. done, when set, is called as each sample is
// graded, one call at a time, with how many are done so far: for a
// progress display.
func Grade(ctx context.Context, list []*Sample, n int, opt graders.Options, done func(finished int, s *Sample)) {
	sem := make(chan struct{}, max(1, n))
	var mu sync.Mutex
	finished := 0
	var wg sync.WaitGroup
	for _, s := range list {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			graders.GradeAll(ctx, []*graders.Job{&s.Job}, 1, opt)
			if done == nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			finished++
			done(finished, s)
		})
	}
	wg.Wait()
}
