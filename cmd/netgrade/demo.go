package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/render"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/samples"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

func newDemoCmd() *cobra.Command {
	var jobs int
	var only []string
	var all bool
	var out outputFlags
	c := &cobra.Command{
		Use:   "demo",
		Short: "Grade the bundled sample submissions and show the report",
		Long: `Grade netgrade's reference implementations and its bundled sample submissions
(good ones, and ones that fail in known ways), showing progress as they are
graded (a bar on a terminal, a line per submission otherwise); then the full
report of one failing sample and, last, every verdict against what each sample
declares. Exits 0 when every verdict is as declared.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			specs, err := out.parse()
			if err != nil {
				return err
			}
			dir, err := os.MkdirTemp("", "netgrade-demo-")
			if err != nil {
				return internalErr(err)
			}
			defer os.RemoveAll(dir)
			list, err := demoSamples(dir, only, all)
			if err != nil {
				return err
			}
			stderr := c.ErrOrStderr()
			fmt.Fprintf(stderr, "netgrade demo: grading %d submissions (%d at a time)…\n", len(list), jobs)
			prog := newDemoProgress(stderr, isTerminal(stderr), len(list))
			samples.Grade(c.Context(), list, jobs, newOptions(), prog.done)
			prog.finish()
			if c.Context().Err() != nil {
				return internalErr(fmt.Errorf("interrupted"))
			}
			if len(out.formats) > 0 {
				var rs []report.Result
				for _, s := range list {
					rs = append(rs, s.Result)
				}
				if err := writeFor(specs, rs, c.OutOrStdout(), renderOpts{}); err != nil {
					return err
				}
				return githubStep(specs, rs, c.ErrOrStderr())
			}
			return demoSummary(c.OutOrStdout(), list)
		},
	}
	c.Flags().IntVarP(&jobs, "jobs", "j", 2*runtime.NumCPU(), "submissions graded at the same time (grading mostly waits on sockets)")
	c.Flags().StringSliceVar(&only, "exercise", nil, "grade only these exercises")
	c.Flags().BoolVar(&all, "all", false, "grade every sample of every exercise (the exercises whose checks wait seconds by design get three samples otherwise)")
	out.register(c)
	return c
}

// demoSamples lists the reference and fixtures of every exercise (or of
// the ones named), the fixtures written into dir as students hand them in.
func demoSamples(dir string, only []string, all bool) ([]*samples.Sample, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, internalErr(err)
	}
	var exs []*graders.Exercise
	for _, ex := range course.Registry().Exercises() {
		if len(only) == 0 || slices.Contains(only, ex.ID) {
			exs = append(exs, ex)
		}
	}
	if len(exs) == 0 {
		return nil, usageErr("no exercise matches %s", strings.Join(only, ", "))
	}
	pick := func(ex *graders.Exercise, fs []fixtures.Fixture) []fixtures.Fixture {
		if !all && ex.Floor >= time.Second {
			return sampleFixtures(fs)
		}
		return fs
	}
	list, err := samples.List(dir, self, exs, pick)
	if err != nil {
		return nil, internalErr(err)
	}
	return list, nil
}

// sampleFixtures keeps one passing and two failing fixtures of an
// exercise whose grading waits seconds by design, so that the demo stays
// short; --all grades every one.
func sampleFixtures(fs []fixtures.Fixture) []fixtures.Fixture {
	var out []fixtures.Fixture
	pass, fail := 0, 0
	for _, f := range fs {
		switch {
		case f.Pass && pass < 1:
			pass++
			out = append(out, f)
		case !f.Pass && fail < 2:
			fail++
			out = append(out, f)
		}
	}
	return out
}

// demoSummary prints the full report of one failing sample, then a
// verdict line per submission, last, so that the table is what stays on
// screen.
func demoSummary(w io.Writer, list []*samples.Sample) error {
	if j := showcase(list); j != nil {
		fmt.Fprintf(w, "── Report of a failing sample, %s: %s\n\n", j.Submission.Name, j.About)
		if err := render.Text(w, []report.Result{j.Result}, render.TextOptions{Color: colorFor(w)}); err != nil {
			return internalErr(err)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "── Every verdict against what the sample declares")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	mismatches := 0
	current := ""
	for _, j := range list {
		if j.Exercise.ID != current {
			current = j.Exercise.ID
			fmt.Fprintf(tw, "\n%s — %s\t\t\t\n", j.Exercise.ID, j.Exercise.Title)
		}
		verdict := "as declared"
		if !j.AsDeclared() {
			verdict = "NOT AS DECLARED (expected to fail: " + short(j.Fails) + ")"
			mismatches++
		}
		fails := short(j.Failed())
		if fails == "" {
			fails = "all pass"
		}
		fmt.Fprintf(tw, "  %s\t%s/%s\t%s\t%s\n", j.Name(), render.Num(j.Result.Score), render.Num(j.Result.MaxScore), fails, verdict)
	}
	if err := tw.Flush(); err != nil {
		return internalErr(err)
	}
	fmt.Fprintln(w)
	if mismatches > 0 {
		fmt.Fprintf(w, "%d of %d verdicts differ from what the samples declare.\n", mismatches, len(list))
		return failedErr
	}
	fmt.Fprintf(w, "All %d verdicts are as the samples declare.\n", len(list))
	return nil
}

// showcase picks the failing sample whose report the demo shows in full:
// the first that fails as declared exactly one check (one mistake, one
// deduction, one explanation), else the first that fails at all.
func showcase(list []*samples.Sample) *samples.Sample {
	var first *samples.Sample
	for _, j := range list {
		if len(j.Fails) == 0 {
			continue
		}
		if len(j.Fails) == 1 && j.AsDeclared() {
			return j
		}
		if first == nil {
			first = j
		}
	}
	return first
}

// demoProgress shows how the demo's grading goes on w: a bar on a
// terminal, a line per submission otherwise; a verdict that differs from
// its declaration is printed as it happens in both.
type demoProgress struct {
	w     io.Writer
	total int
	bar   *progressbar.ProgressBar
}

func newDemoProgress(w io.Writer, terminal bool, total int) *demoProgress {
	p := &demoProgress{w: w, total: total}
	if terminal {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("grading"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionFullWidth(),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

// done is told that a sample is graded, finished of them so far.
func (p *demoProgress) done(finished int, s *samples.Sample) {
	verdict := "as declared"
	if !s.AsDeclared() {
		verdict = "NOT AS DECLARED"
	}
	if p.bar == nil {
		fmt.Fprintf(p.w, "[%d/%d] %s: %s/%s, %s\n", finished, p.total, s.ID, render.Num(s.Result.Score), render.Num(s.Result.MaxScore), verdict)
		return
	}
	if !s.AsDeclared() {
		_ = p.bar.Clear()
		fmt.Fprintf(p.w, "%s: %s\n", s.ID, verdict)
	}
	p.bar.Describe(s.ID)
	_ = p.bar.Add(1)
}

// finish ends the progress display.
func (p *demoProgress) finish() {
	if p.bar != nil && !p.bar.IsFinished() {
		_ = p.bar.Exit()
		fmt.Fprintln(p.w)
	}
}

// short lists check IDs without their exercise prefix.
func short(ids []string) string {
	var out []string
	for _, id := range ids {
		_, s, _ := strings.Cut(id, "/")
		out = append(out, s)
	}
	return strings.Join(out, " ")
}
