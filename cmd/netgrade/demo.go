package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/render"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/spf13/cobra"
)

// demoJob is one submission the demo grades, with the verdict it expects.
type demoJob struct {
	ex      *graders.Exercise
	name    string
	sub     graders.Submission
	expects []string // check IDs that must fail; empty: full marks
	about   string
	res     report.Result
}

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
			list, err := demoJobs(dir, only, all)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.ErrOrStderr(), "netgrade demo: grading %d submissions (%d at a time)…\n", len(list), jobs)
			gradeAll(c.Context(), list, jobs)
			if c.Context().Err() != nil {
				return internalErr(fmt.Errorf("interrupted"))
			}
			if len(out.formats) > 0 {
				var rs []report.Result
				for _, j := range list {
					rs = append(rs, j.res)
				}
				return write(specs, rs, c.OutOrStdout())
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

// demoJobs lists the reference and fixtures of every exercise, the
// fixtures written into dir as students hand them in.
func demoJobs(dir string, only []string, all bool) ([]*demoJob, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, internalErr(err)
	}
	reg := graders.Default()
	var list []*demoJob
	for _, ex := range reg.Exercises() {
		if len(only) > 0 && !slices.Contains(only, ex.ID) {
			continue
		}
		list = append(list, &demoJob{ex: ex, name: "reference", about: "netgrade's reference implementation",
			sub: graders.Submission{Name: "reference:" + ex.ID, Command: []string{self, "ref", ex.ID}}})
		fs, err := fixtures.For(ex.ID)
		if err != nil {
			return nil, internalErr(err)
		}
		exDir := dir + "/" + ex.ID
		if err := os.MkdirAll(exDir, 0o755); err != nil {
			return nil, internalErr(err)
		}
		if !all && ex.Floor >= time.Second {
			fs = sampleFixtures(fs)
		}
		for _, f := range fs {
			path, err := f.Write(exDir)
			if err != nil {
				return nil, internalErr(err)
			}
			sub, err := graders.FileSubmission(path)
			if err != nil {
				return nil, internalErr(err)
			}
			sub.Name = "fixtures/" + f.ID()
			list = append(list, &demoJob{ex: ex, name: f.Name, sub: sub, expects: f.Fails, about: f.About})
		}
	}
	if len(list) == 0 {
		return nil, usageErr("no exercise matches %s", strings.Join(only, ", "))
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

// gradeAll grades the jobs, n at a time.
func gradeAll(ctx context.Context, list []*demoJob, n int) {
	opt := newOptions()
	sem := make(chan struct{}, max(1, n))
	var wg sync.WaitGroup
	for _, j := range list {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			j.res = j.ex.Grade(ctx, j.sub, opt)
		}()
	}
	wg.Wait()
}

// failedIDs returns the IDs of the checks a result failed.
func failedIDs(r report.Result) []string {
	var ids []string
	for _, c := range r.Checks {
		if c.Status == report.Fail {
			ids = append(ids, c.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// demoSummary prints a verdict line per submission, then the full report
// of one failing sample per exercise.
func demoSummary(w io.Writer, list []*demoJob) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	mismatches := 0
	current := ""
	for _, j := range list {
		if j.ex.ID != current {
			current = j.ex.ID
			fmt.Fprintf(tw, "\n%s — %s\t\t\t\n", j.ex.ID, j.ex.Title)
		}
		got := failedIDs(j.res)
		verdict := "as declared"
		if !slices.Equal(got, j.expects) || j.res.HasErrors() {
			verdict = "NOT AS DECLARED (expected to fail: " + short(j.expects) + ")"
			mismatches++
		}
		fails := short(got)
		if fails == "" {
			fails = "all pass"
		}
		fmt.Fprintf(tw, "  %s\t%s/%s\t%s\t%s\n", j.name, render.Num(j.res.Score), render.Num(j.res.MaxScore), fails, verdict)
	}
	if err := tw.Flush(); err != nil {
		return internalErr(err)
	}
	shown := map[string]bool{}
	for _, j := range list {
		if len(j.expects) == 0 || shown[j.ex.ID] {
			continue
		}
		shown[j.ex.ID] = true
		fmt.Fprintf(w, "\n── Report of a failing sample, %s: %s\n\n", j.sub.Name, j.about)
		if err := render.Text(w, []report.Result{j.res}, render.TextOptions{Color: colorFor(w)}); err != nil {
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
