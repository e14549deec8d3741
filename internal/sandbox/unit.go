package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/report"
)

// Runner grades units with the exercises of a registry. It is what runs
// inside a sandbox (the unit runner) and, for the process sandbox, inside
// netgrade itself.
type Runner struct {
	Registry *graders.Registry
	// Interpreters and Ports are shared by every unit this runner grades;
	// nil gives each unit its own.
	Interpreters *pyenv.Interpreters
	Ports        *harness.Ports
}

// UnitSlots is how many checks of one unit run at once. A batch grades
// many students at once already (-j): two checks at a time within each
// lets a unit's exercises overlap their designed waits while keeping a
// class's load to about twice -j programs.
const UnitSlots = 2

// Grade grades the files of the unit side by side (graders.GradeSideBySide,
// at most UnitSlots checks at once, one check at a time per exercise) and
// calls emit with each result, in the order of the unit's files, as soon
// as it and those before it are ready.
func (r *Runner) Grade(ctx context.Context, u Unit, emit func(report.Result) error) error {
	if u.Timeout() > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, u.Timeout())
		defer cancel()
	}
	opt := graders.Options{
		Course:       u.Course,
		Interpreters: r.Interpreters,
		Ports:        r.Ports,
		// One check at a time within each exercise, UnitSlots across them.
		Parallel: 1,
		Slots:    graders.NewSlots(UnitSlots),
		Sandbox:  u.Sandbox,
		Version:  u.Version,
	}
	if opt.Interpreters == nil {
		opt.Interpreters = pyenv.NewInterpreters()
	}
	jobs := make([]*graders.Job, 0, len(u.Files))
	for _, f := range u.Files {
		ex, err := r.Registry.Get(f.Exercise)
		if err != nil {
			return err
		}
		sub, err := r.submission(u, f, ex)
		if err != nil {
			return err
		}
		jobs = append(jobs, &graders.Job{Exercise: ex, Submission: sub})
	}
	// Results leave in file order: next is the first not emitted yet.
	finished := make(map[*graders.Job]bool, len(jobs))
	next := 0
	var emitErr error
	graders.GradeSideBySide(ctx, jobs, opt, func(j *graders.Job) {
		finished[j] = true
		for next < len(jobs) && finished[jobs[next]] && emitErr == nil && ctx.Err() == nil {
			emitErr = emit(jobs[next].Result)
			next++
		}
	})
	if emitErr != nil {
		return emitErr
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("grading %s of %s: %w", jobs[min(next, len(jobs)-1)].Exercise.ID, u.Student, err)
	}
	return nil
}

// submission returns the submission of one file of the unit.
func (r *Runner) submission(u Unit, f File, ex *graders.Exercise) (graders.Submission, error) {
	rel := filepath.FromSlash(f.Path)
	if !filepath.IsLocal(rel) {
		return graders.Submission{}, fmt.Errorf("file %q of %s is not inside its folder", f.Path, u.Student)
	}
	path := filepath.Join(u.Dir, rel)
	sub, err := graders.FileSubmission(path)
	if err != nil {
		return graders.Submission{}, fmt.Errorf("file %s of %s: %w", f.Path, u.Student, err)
	}
	if command := u.Course.Command(f.Exercise); len(command) > 0 {
		abs, err := filepath.Abs(path)
		if err != nil {
			return graders.Submission{}, err
		}
		sub.Command = harness.FileTemplate(command, abs, ex.Args)
	}
	if u.Python != "" && len(sub.Command) > 0 && sub.Command[0] == "python3" {
		sub.Command[0] = u.Python
	}
	sub.Name = filepath.ToSlash(filepath.Join(u.Student, rel))
	return sub, nil
}

// Serve is the unit runner's main loop: it grades the unit and writes the
// JSON line stream (one result per exercise, then done) to w. An error is
// also written to the stream, so that the parent can tell what went wrong.
func (r *Runner) Serve(ctx context.Context, u Unit, w io.Writer) error {
	// A container's pids limit counts the runner's threads with the
	// programs' processes: the runner holds the threads it needs before a
	// fork bomb takes every free slot (the Go runtime dies when it cannot
	// create one).
	harness.ReserveThreads(harness.UnitThreads)
	enc := json.NewEncoder(w)
	err := r.Grade(ctx, u, func(res report.Result) error {
		return enc.Encode(line{Result: &res})
	})
	if err != nil {
		_ = enc.Encode(line{Error: err.Error()})
		return err
	}
	return enc.Encode(line{Done: true})
}

// ParseUnit decodes a unit as the runner receives it.
func ParseUnit(data []byte) (Unit, error) {
	var u Unit
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&u); err != nil {
		return Unit{}, fmt.Errorf("reading the unit to grade: %w", err)
	}
	if u.Dir == "" || len(u.Files) == 0 {
		return Unit{}, fmt.Errorf("the unit to grade names no folder or no file")
	}
	return u, nil
}
