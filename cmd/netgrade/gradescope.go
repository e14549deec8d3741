package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/coursefile"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/render"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/spf13/cobra"
)

// Gradescope's autograder layout
// (https://gradescope-autograders.readthedocs.io/en/latest/specs/).
const (
	gradescopeSubmission = "/autograder/submission"
	gradescopeResults    = "/autograder/results/results.json"
)

func newGradescopeCmd() *cobra.Command {
	var crs courseFlag
	var subDir, resultsPath string
	c := &cobra.Command{
		Use:   "gradescope",
		Short: "Grade a Gradescope submission and write results.json",
		Long: `Run as Gradescope's run_autograder: grade every exercise of the course in the
student's submission (` + gradescopeSubmission + `), each found by its file name
(also in a subfolder, when a student uploaded a folder), and write
` + gradescopeResults + `: one test per check with its points, visibility and
explanation. An exercise whose file is missing scores 0 of its points. The
instructor's text report goes to standard output (Gradescope keeps it hidden
from students). See examples/gradescope for setup.sh and run_autograder.

Exit status: 0 when results.json was written, whatever the score (Gradescope
reads the score from the file); 2 for a bad course file or folder; 3 when
netgrade could not write the results.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cs, err := crs.load()
			if err != nil {
				return err
			}
			if st, err := os.Stat(subDir); err != nil || !st.IsDir() {
				return usageErr("no submission folder %s (--submission)", subDir)
			}
			base := newOptions()
			mods := pyenv.NewAdvisor(base.Interpreters)
			var results []report.Result
			found, err := batch.Find(subDir, courseRules(cs))
			if err != nil {
				return usageErr("%v", err)
			}
			notes := found.Notes()
			for _, e := range cs.Exercises {
				if e.Grader == nil {
					notes = append(notes, fmt.Sprintf("%s: this netgrade has no grader for it; not graded", e.ID))
					continue
				}
				opt := base
				opt.Course = cs
				rel := found.Path(e.ID)
				if rel == "" {
					sub := graders.Submission{Name: e.File, File: e.File}
					results = append(results, e.Grader.NotSubmitted(sub, opt, e.File+" was not found in the submission"))
					notes = append(notes, fmt.Sprintf("%s: %s is missing", e.ID, e.File))
					continue
				}
				r, err := gradeFile(c, cs, e, filepath.Join(subDir, filepath.FromSlash(rel)), subDir, opt)
				if err != nil {
					return err
				}
				// The autograder is the grading machine: its setup.sh
				// installs what programs may import.
				rs := []report.Result{r}
				mods.Grading(c.Context(), rs)
				results = append(results, rs[0])
			}
			if c.Context().Err() != nil {
				return internalErr(fmt.Errorf("interrupted"))
			}
			var buf bytes.Buffer
			if err := render.Gradescope(&buf, results); err != nil {
				return internalErr(fmt.Errorf("rendering results.json: %w", err))
			}
			if err := batch.WriteFileAtomic(resultsPath, buf.Bytes()); err != nil {
				return internalErr(err)
			}
			out := c.OutOrStdout()
			if err := render.Text(out, results, render.TextOptions{}); err != nil {
				return internalErr(err)
			}
			for _, n := range notes {
				fmt.Fprintf(out, "note: %s\n", n)
			}
			score, maxScore := report.Total(results)
			fmt.Fprintf(out, "\nnetgrade wrote %s: %s/%s\n", resultsPath, render.Num(score), render.Num(maxScore))
			return nil
		},
	}
	crs.register(c)
	c.Flags().StringVar(&subDir, "submission", gradescopeSubmission, "folder holding the student's submission")
	c.Flags().StringVar(&resultsPath, "results", gradescopeResults, "results.json to write")
	return c
}

// gradeFile grades the file at path, named in reports by its path inside
// the submission folder.
func gradeFile(c *cobra.Command, cs *coursefile.Course, e *coursefile.Entry, path, root string, opt graders.Options) (report.Result, error) {
	sub, err := cs.Submission(e, path)
	if err != nil {
		return report.Result{}, internalErr(err)
	}
	if rel, err := filepath.Rel(root, path); err == nil {
		sub.Name, sub.File = filepath.ToSlash(rel), filepath.ToSlash(rel)
	}
	fmt.Fprintf(c.ErrOrStderr(), "netgrade: grading %s (%s)…\n", sub.Name, e.ID)
	return e.Grader.Grade(c.Context(), sub, opt), nil
}
