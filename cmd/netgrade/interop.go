package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/interop"
	"github.com/netgrade/netgrade/internal/outlock"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/sandbox"
	"github.com/spf13/cobra"
)

// interopFlags are the flags of `netgrade interop`: batch's, for the
// same sandboxes and course.
type interopFlags struct{ batchFlags }

// newInteropCmd is `netgrade interop`: a command of its own rather than a
// flag of batch, because it is a second pass over a graded class (its grey
// cells come from each student's own grade), it costs the square of the
// class, and an instructor runs it, or runs it again, apart from grading.
func newInteropCmd() *cobra.Command {
	var f interopFlags
	c := &cobra.Command{
		Use:   "interop SUBMISSIONS -o OUT",
		Short: "Run every student's client against every student's server (the class interop matrix)",
		Long: `Run the class interop matrix after 'netgrade batch SUBMISSIONS -o OUT': for
udp-client × udp-server, tcp-client × tcp-server and tcp-client × tcp-upper,
every student's client against every student's server, with netgrade's
references as one more row and one more column. Each cell runs the two
programs together in the sandbox (netns by default, as batch), with netgrade
relaying and recording every byte between them, and says in one line what
happened: green (the message arrived whole, the server logged it, the client
printed the reply), amber (they talked, but something was lost or garbled),
red (no conversation) or grey (one side could not run; its own grade says why).

Written to OUT:
  interop.html           one matrix per pair; a cell opens its transcripts
  interop.csv            one row per cell
  interop/summary.json   also the "interop" section of summary.json
  interop/cells/         one file per cell: a run again reuses the cells done
and a line per pair on each student's page (students/ID.html), and a link
from the class report.

It changes no grade. A course file may turn the matrix into points
(interop: {points: 2, min_partners: 3}), in summary.json: then a student's
points depend on classmates' code (see docs/interop.md).`,
		Example: `  netgrade batch submissions/ -o results/ && netgrade interop submissions/ -o results/`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("give the folder of submissions: netgrade interop SUBMISSIONS -o OUT")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			return runInterop(c, args[0], f)
		},
	}
	fl := c.Flags()
	fl.StringVarP(&f.out, "output", "o", "", "the output folder of the batch that graded the class (required)")
	fl.IntVarP(&f.jobs, "jobs", "j", defaultJobs(), "cells run at the same time")
	fl.StringVar(&f.sandbox, "sandbox", "", "isolation: netns, docker or process (default netns where it works, else process)")
	fl.BoolVar(&f.regrade, "regrade", false, "run every cell again, even those already done")
	f.course.register(c)
	f.overrides.register(c)
	fl.StringVar(&f.image, "image", sandbox.DefaultImage, "with --sandbox docker: the image programs run in")
	fl.StringVar(&f.unitBinary, "unit-binary", "", "with --sandbox docker: a static netgrade binary to run in the containers (default: this one)")
	return c
}

// interopEnv is what a cell needs from netgrade: the course's references.
func interopEnv() interop.Env {
	return interop.Env{Reference: func(ex string) (interop.RefFunc, error) {
		p, err := course.Reference(ex)
		if err != nil {
			return nil, err
		}
		return p.Run, nil
	}}
}

// servePair is the pair runner inside a sandbox: one cell of the matrix.
func servePair(ctx context.Context, data []byte, w io.Writer) error {
	p, err := sandbox.ParsePair(data)
	if err != nil {
		return internalErr(err)
	}
	if err := sandbox.ServePair(ctx, p, interopPairFunc(), w); err != nil {
		return &exitError{code: exitInternal}
	}
	return nil
}

// interopPairFunc is what a pair runner runs for each cell: the cell with
// the course's references, its ports counted from 1 (the cell has its
// loopback to itself).
func interopPairFunc() sandbox.PairFunc {
	return func(ctx context.Context, p sandbox.Pair) (json.RawMessage, error) {
		env := interopEnv()
		env.Ports = harness.NewPorts(1)
		return env.Run(ctx, p)
	}
}

func runInterop(c *cobra.Command, subs string, f interopFlags) error {
	ctx := c.Context()
	stderr := c.ErrOrStderr()
	if f.out == "" {
		return usageErr("give the output folder of the batch with -o OUT")
	}
	if f.jobs < 1 {
		return usageErr("-j must be at least 1")
	}
	crs, err := f.course.load()
	if err != nil {
		return err
	}
	w := newBatchWiring(crs)
	var pairs []interop.ExercisePair
	for _, p := range interop.Pairs() {
		if _, err := w.Registry.Get(p.Client); err != nil {
			continue
		}
		if _, err := w.Registry.Get(p.Server); err != nil {
			continue
		}
		pairs = append(pairs, p)
	}
	if len(pairs) == 0 {
		return usageErr("the course has no client and server exercises that talk to each other (%s)", pairNames())
	}
	students, err := batch.Discover(subs)
	if err != nil {
		return usageErr("%v", err)
	}
	if _, err := os.Stat(filepath.Join(f.out, "students")); err != nil {
		return usageErr("%s holds no batch output: grade the class first with netgrade batch %s -o %s", f.out, subs, f.out)
	}
	// Two runs on one OUT would write the same cells and pages at once.
	unlock, err := outlock.Lock(f.out)
	if err != nil {
		return internalErr(err)
	}
	defer unlock()
	work := filepath.Join(interop.Dir(f.out), ".work")
	if err := os.RemoveAll(work); err != nil {
		return internalErr(err)
	}
	defer os.RemoveAll(work)
	var class []interop.Student
	var recs []*batch.Record
	var skipped []string
	for _, s := range students {
		rec, err := batch.ReadRecord(batch.RecordPath(f.out, s.ID))
		if err != nil {
			skipped = append(skipped, s.ID)
			continue
		}
		st, err := interopStudent(s, rec, pairs, work)
		if err != nil {
			return internalErr(err)
		}
		class = append(class, st)
		recs = append(recs, rec)
	}
	if len(skipped) > 0 {
		fmt.Fprintf(stderr, "netgrade interop: %s not graded by the batch yet, left out: %s\n", plural(len(skipped), "student"), strings.Join(skipped, ", "))
	}

	bf := f.batchFlags
	sb, note, err := chooseSandbox(ctx, bf, w.Registry)
	if err != nil {
		return err
	}
	defer sb.Close()
	if note != "" {
		fmt.Fprintf(stderr, "netgrade interop: %s\n", note)
	}
	fmt.Fprintf(stderr, "netgrade interop: sandbox %s, %d cells at a time\n", sb.Name(), f.jobs)
	env := interopEnv()
	env.Interpreters = pyenv.NewInterpreters()
	env.Ports = harness.NewPorts(uint64(time.Now().UnixNano()))
	udpSet := graders.SettingsOf(w.Course, "udp-server")
	logLine := udpSet.Texts["log_line"]
	if logLine == "" {
		if ex, err := w.Registry.Get("udp-server"); err == nil {
			logLine = ex.Texts["log_line"]
		}
	}
	res, err := interop.Run(ctx, class, interop.Options{
		Out: f.out, Pairs: pairs, Sandbox: sb, Env: env, Jobs: f.jobs, Regrade: f.regrade,
		Command:      w.Course.Command,
		LogLine:      logLine,
		TimeoutScale: udpSet.TimeoutScale,
		Version:      version,
		Progress:     stderr,
	})
	if err != nil {
		return internalErr(err)
	}
	if res.Interrupted {
		return internalErr(errors.New("interrupted: run the same command again to finish the matrix (the cells done are kept)"))
	}
	var pts *interop.PointsSetting
	if crs.Interop != nil {
		pts = &interop.PointsSetting{Points: crs.Interop.Points, MinPartners: crs.Interop.MinPartners}
	}
	sum := interop.Summarize(sb.Name(), res.Matrices, pts)
	if err := interop.WriteFiles(f.out, res.Matrices, sum, version); err != nil {
		return internalErr(err)
	}
	exs, err := courseExercises(w.Registry, nil)
	if err != nil {
		return err
	}
	// The class files and every student's page are written again as a
	// batch writes them (overrides, what changed), now with the lines the
	// matrix tells each student (interop/lines.json).
	ovr, err := f.overrides.load(f.course, exs, w.Course)
	if err != nil {
		return err
	}
	if _, err := batch.WriteClassFiles(f.out, exs, batch.ReportMeta{Version: version, Course: w.Course, Overrides: ovr, StudentPage: w.StudentPage}); err != nil {
		return internalErr(err)
	}
	out := c.OutOrStdout()
	for _, ps := range sum.Pairs {
		fmt.Fprintf(out, "%s: %d cells: %d green, %d amber, %d red, %d grey\n", ps.Pair, ps.Cells,
			ps.Verdicts[interop.Green], ps.Verdicts[interop.Amber], ps.Verdicts[interop.Red], ps.Verdicts[interop.Grey])
	}
	fmt.Fprintf(out, "Ran %d cells in %s (%d already done, %d grey from the reference's cell). Wrote %s, %s and the interop section of %s.\n",
		res.Ran, res.Wall.Round(100*time.Millisecond), res.Reused, res.Copied,
		filepath.Join(f.out, interop.HTMLFile), filepath.Join(f.out, interop.CSVFile), filepath.Join(f.out, "summary.json"))
	return nil
}

// pairNames lists the exercise pairs the matrix knows.
func pairNames() string {
	var s []string
	for _, p := range interop.Pairs() {
		s = append(s, p.String())
	}
	return strings.Join(s, ", ")
}

// interopStudent is a student as the matrix needs them: their folder (an
// archive unpacked under work), their file of each exercise of the pairs
// as the batch found it, and what their own grade says when a check that
// keeps a program from talking failed.
func interopStudent(s batch.Student, rec *batch.Record, pairs []interop.ExercisePair, work string) (interop.Student, error) {
	src, err := filepath.Abs(s.Source)
	if err != nil {
		return interop.Student{}, err
	}
	st := interop.Student{ID: s.ID, Dir: src, Files: map[string]string{}, Own: map[string]string{}}
	if s.Zip {
		st.Dir = filepath.Join(work, s.ID)
		if err := os.MkdirAll(st.Dir, 0o755); err != nil {
			return st, err
		}
		if err := batch.Extract(s.Source, st.Dir, batch.DefaultZipLimits()); err != nil {
			if errors.Is(err, batch.ErrArchive) {
				return st, nil // no file: the student is in no row or column
			}
			return st, err
		}
	}
	var exs []string
	for _, p := range pairs {
		exs = append(exs, p.Client, p.Server)
	}
	for _, ff := range rec.Files {
		if ff.Path == "" || !slices.Contains(exs, ff.Exercise) || slices.Contains(rec.Unreadable, ff.Exercise) {
			continue
		}
		if _, err := os.Stat(filepath.Join(st.Dir, filepath.FromSlash(ff.Path))); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		st.Files[ff.Exercise] = ff.Path
		if res, ok := rec.Result(ff.Exercise); ok {
			st.Own[ff.Exercise] = firstFailure(res)
		}
	}
	return st, nil
}

// firstFailure is the first failed check of a result that judges whether
// the program starts and reaches its peer (category start), else the first
// failed check, with its message.
func firstFailure(res report.Result) string {
	first := ""
	for _, c := range res.Checks {
		if c.Status != report.Fail {
			continue
		}
		if c.Category == report.Start {
			return c.ID + " failed: " + c.Message
		}
		if first == "" {
			first = c.ID + " failed: " + c.Message
		}
	}
	return first
}
