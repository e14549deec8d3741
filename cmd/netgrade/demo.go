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
(good ones, and ones that fail in known ways), show a summary of every verdict
against what each sample declares, and the full report of a failing sample.
Exits 0 when every verdict is as declared.`,
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
			fmt.Fprintf(c.ErrOrStderr(), "netgrade demo: grading %d submissions (%d at a time)…\n", len(list), jobs)
			graders.GradeAll(c.Context(), samples.Jobs(list), jobs, newOptions())
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

// demoSummary prints a verdict line per submission, then the full report
// of one failing sample per exercise.
func demoSummary(w io.Writer, list []*samples.Sample) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	mismatches := 0
	current := ""
	for _, j := range list {
		if j.Exercise.ID != current {
			current = j.Exercise.ID
			fmt.Fprintf(tw, "\n%s — %s\t\t\t\n", j.Exercise.ID, j.Exercise.Title)
		}
		got := j.Failed()
		verdict := "as declared"
		if !j.AsDeclared() {
			verdict = "NOT AS DECLARED (expected to fail: " + short(j.Fails) + ")"
			mismatches++
		}
		fails := short(got)
		if fails == "" {
			fails = "all pass"
		}
		fmt.Fprintf(tw, "  %s\t%s/%s\t%s\t%s\n", j.Name(), render.Num(j.Result.Score), render.Num(j.Result.MaxScore), fails, verdict)
	}
	if err := tw.Flush(); err != nil {
		return internalErr(err)
	}
	shown := map[string]bool{}
	for _, j := range list {
		if len(j.Fails) == 0 || shown[j.Exercise.ID] {
			continue
		}
		shown[j.Exercise.ID] = true
		fmt.Fprintf(w, "\n── Report of a failing sample, %s: %s\n\n", j.Submission.Name, j.About)
		if err := render.Text(w, []report.Result{j.Result}, render.TextOptions{Color: colorFor(w)}); err != nil {
			return internalErr(err)
		}
	}
	fmt.Fprintln(w)
	if mismatches > 0 {
		fmt.Fprintf(w, "%d of %d verdicts differ from what the samples declare.\n", mismatches, len(list))
		return failedErr
	}
	fmt.Fprintf(w, "All %d verdicts are as the samples declare.\n", len(list))
	return nil
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
