package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/overrides"
	"github.com/netgrade/netgrade/internal/render"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/spf13/cobra"
)

// overridesFlag is the --overrides flag of the commands that write grades.
type overridesFlag struct {
	path string
}

func (f *overridesFlag) register(c *cobra.Command) {
	c.Flags().StringVar(&f.path, "overrides", "", "the instructor's overrides (YAML): points set or added per student, check or exercise, with a comment; default: "+overrides.FileName+" beside the course file, when there is one")
}

// load reads the overrides file given, or the one beside the course file
// (none when there is no course file or no such file). A bad file is a
// course error (exit 2) naming the line and column of every mistake.
func (f *overridesFlag) load(cf courseFlag, exs []*graders.Exercise, course graders.Course) (*overrides.File, error) {
	path := f.path
	if path == "" {
		if cf.path == "" {
			return nil, nil
		}
		path = filepath.Join(filepath.Dir(cf.path), overrides.FileName)
		if _, err := os.Stat(path); err != nil {
			return nil, nil
		}
	}
	file, err := overrides.Load(path, batch.Catalog(exs, course))
	var mistakes overrides.Errors
	switch {
	case err == nil:
		return file, nil
	case errors.As(err, &mistakes):
		return nil, courseErr("the overrides file is not valid:\n%v", err)
	default:
		return nil, courseErr("%v", err)
	}
}

// tellOverrides says how many overrides were applied, and names those
// to look at again and those that adjusted nothing.
func tellOverrides(w io.Writer, sum batch.Summary, file *overrides.File) {
	if file.Len() == 0 {
		return
	}
	fmt.Fprintf(w, "Applied %s from %s", plural(len(sum.Overrides), "override"), file.Source)
	if sum.AutogradedAverageScore != nil {
		fmt.Fprintf(w, " (the autograded average was %s)", render.Num(*sum.AutogradedAverageScore))
	}
	fmt.Fprintln(w, ".")
	for _, a := range sum.Overrides {
		if a.Flag != "" {
			fmt.Fprintf(w, "  look again at line %d, %s: %s\n", a.Line, render.Terminal(a.Target(), false), render.Terminal(a.Flag, false))
		}
	}
	for _, u := range sum.OverridesUnmatched {
		fmt.Fprintf(w, "  line %d, %s adjusted nothing: %s\n", u.Line, render.Terminal(u.Target(), false), render.Terminal(u.Reason, false))
	}
}

// tellRegrade says what changed since the last grading, when the output
// held one.
func tellRegrade(w io.Writer, out string, sum batch.Summary) {
	rg := sum.Regrade
	if rg == nil {
		return
	}
	if len(rg.Changes) == 0 {
		fmt.Fprintf(w, "Graded %s again: nothing changed since the last grading.\n", plural(rg.Regraded, "student"))
		return
	}
	fmt.Fprintf(w, "Graded %s again: %s changed since the last grading (%s), listed in %s.\n",
		plural(rg.Regraded, "student"), plural(len(rg.Changed), "student"), plural(len(rg.Changes), "check"), filepath.Join(out, "changes.csv"))
}

// gradescopeMetadata is Gradescope's submission_metadata.json, as far as
// overrides need it: who submitted.
const gradescopeMetadata = "/autograder/submission_metadata.json"

// gradescopeStudents returns the IDs an override may name the submitter
// by: --student when given, else each submitter's student ID, email and
// name from Gradescope's submission metadata (none when it cannot be read).
func gradescopeStudents(student, metadata string) []string {
	if student != "" {
		return []string{student}
	}
	data, err := os.ReadFile(metadata)
	if err != nil {
		return nil
	}
	var md struct {
		Users []struct {
			SID   string `json:"sid"`
			Email string `json:"email"`
			Name  string `json:"name"`
		} `json:"users"`
	}
	if json.Unmarshal(data, &md) != nil {
		return nil
	}
	var ids []string
	for _, u := range md.Users {
		for _, id := range []string{u.SID, u.Email, u.Name} {
			if id != "" && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// applyGradescope applies the overrides of the submitter (named by any of
// ids) to results, and tells the instructor's log what they did.
func applyGradescope(w io.Writer, results []report.Result, file *overrides.File, ids []string) []report.Result {
	if file.Len() == 0 {
		return results
	}
	var list []overrides.Override
	for _, id := range ids {
		list = append(list, file.For(id)...)
	}
	if len(list) == 0 {
		fmt.Fprintf(w, "note: no override of %s in %s\n", strings.Join(ids, ", "), file.Source)
		return results
	}
	adjusted, applied, unmatched := overrides.Apply(results, list, nil)
	for _, a := range applied {
		fmt.Fprintf(w, "note: override at line %d, %s: %s → %s points", a.Line, render.Terminal(a.Target(), false), render.Num(a.Autograded), render.Num(a.Final))
		if a.Flag != "" {
			fmt.Fprintf(w, "; look again: %s", render.Terminal(a.Flag, false))
		}
		fmt.Fprintln(w)
	}
	for _, u := range unmatched {
		fmt.Fprintf(w, "note: override at line %d, %s adjusted nothing: %s\n", u.Line, render.Terminal(u.Target(), false), render.Terminal(u.Reason, false))
	}
	return adjusted
}
