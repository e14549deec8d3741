package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/render"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// renderOpts tune one rendering.
type renderOpts struct {
	// color is true only when the destination is a terminal and NO_COLOR
	// is unset.
	color bool
	// student marks a report for a student (netgrade check): checks the
	// course hides are not named in any format but gradescope, which
	// passes their visibility on to Gradescope.
	student bool
	// summary, when set, ends the text report with the summary table of a
	// student's folder.
	summary []render.SummaryRow
	// failuresOnly shows a passing exercise in one line in the text report.
	failuresOnly bool
}

// renderer writes results in one format.
type renderer func(w io.Writer, results []report.Result, o renderOpts) error

// forAudience returns the results as the audience may read them.
func forAudience(rs []report.Result, o renderOpts) []report.Result {
	if o.student {
		return render.ForStudents(rs)
	}
	return rs
}

// renderers are the output formats, by --format name. markdown and html
// are student-facing whoever asks for them: they never name hidden checks.
func renderers() map[string]renderer {
	return map[string]renderer{
		"text": func(w io.Writer, rs []report.Result, o renderOpts) error {
			topt := render.TextOptions{Color: o.color, Student: o.student, FailuresOnly: o.failuresOnly}
			if err := render.Text(w, rs, topt); err != nil {
				return err
			}
			if o.summary != nil {
				return render.Summary(w, o.summary, topt)
			}
			return nil
		},
		"json": func(w io.Writer, rs []report.Result, o renderOpts) error {
			return render.JSON(w, forAudience(rs, o))
		},
		"junit": func(w io.Writer, rs []report.Result, o renderOpts) error {
			return render.JUnit(w, forAudience(rs, o))
		},
		"gradescope": func(w io.Writer, rs []report.Result, _ renderOpts) error {
			return render.Gradescope(w, rs)
		},
		"markdown": func(w io.Writer, rs []report.Result, _ renderOpts) error {
			return render.Markdown(w, rs)
		},
		"html": func(w io.Writer, rs []report.Result, _ renderOpts) error {
			return render.HTML(w, rs)
		},
	}
}

// outputFlags are the report flags every grading command takes.
type outputFlags struct {
	formats []string
	out     string
}

func (o *outputFlags) register(c *cobra.Command) {
	c.Flags().StringArrayVar(&o.formats, "format", nil, "report format NAME[:PATH], repeatable; NAME is one of "+strings.Join(formatNames(), ", ")+" (default text)")
	c.Flags().StringVarP(&o.out, "output", "o", "", "write the report to this file instead of standard output (with a single --format)")
}

func formatNames() []string {
	var names []string
	for n := range renderers() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// outputSpec is one parsed --format.
type outputSpec struct {
	name string
	path string
}

// parse checks the flags before any grading starts, so that a typo costs
// nothing.
func (o *outputFlags) parse() ([]outputSpec, error) {
	raw := o.formats
	if len(raw) == 0 {
		raw = []string{"text"}
	}
	rs := renderers()
	var specs []outputSpec
	stdoutUsers := 0
	for _, f := range raw {
		name, path, _ := strings.Cut(f, ":")
		if _, ok := rs[name]; !ok {
			return nil, usageErr("unknown format %q: use one of %s", name, strings.Join(formatNames(), ", "))
		}
		if path == "" && o.out != "" {
			path = o.out
		}
		if path == "" || path == "-" {
			path = ""
			stdoutUsers++
		}
		specs = append(specs, outputSpec{name: name, path: path})
	}
	if o.out != "" && len(raw) > 1 {
		return nil, usageErr("-o names one file; with several --format give each its path as NAME:PATH")
	}
	if stdoutUsers > 1 {
		return nil, usageErr("several formats would go to standard output: give all but one a path (NAME:PATH)")
	}
	return specs, nil
}

// writeFor renders the results in every requested format. Files are
// written whole to a temporary name and renamed, so a reader never sees
// half a report. What GitHub Actions reads is githubStep's, once per
// command run.
func writeFor(specs []outputSpec, results []report.Result, stdout io.Writer, o renderOpts) error {
	rs := renderers()
	for _, s := range specs {
		so := o
		if s.path == "" {
			so.color = colorFor(stdout)
			if err := rs[s.name](stdout, results, so); err != nil {
				return internalErr(fmt.Errorf("writing the %s report: %w", s.name, err))
			}
			continue
		}
		so.color = false
		var buf bytes.Buffer
		if err := rs[s.name](&buf, results, so); err != nil {
			return internalErr(fmt.Errorf("rendering the %s report: %w", s.name, err))
		}
		if err := batch.WriteFileAtomic(s.path, buf.Bytes()); err != nil {
			return internalErr(err)
		}
	}
	return nil
}

// githubStep tells GitHub Actions about the results, once per command run
// (per regrade under check --watch) so that nothing is said twice: it
// appends the Markdown summary to $GITHUB_STEP_SUMMARY (unless one of specs
// already writes markdown there) and, when GITHUB_ACTIONS is true, writes
// an ::error annotation per failed check on stderr, where the runner reads
// workflow commands too, so that stdout stays the report's.
func githubStep(specs []outputSpec, results []report.Result, stderr io.Writer) error {
	summaryPath := os.Getenv("GITHUB_STEP_SUMMARY")
	for _, s := range specs {
		if s.name == "markdown" && s.path != "" && summaryPath != "" && samePath(s.path, summaryPath) {
			summaryPath = ""
		}
	}
	if summaryPath != "" {
		if err := appendFile(summaryPath, func(w io.Writer) error { return render.Markdown(w, results) }); err != nil {
			return internalErr(fmt.Errorf("writing the GitHub job summary: %w", err))
		}
	}
	if os.Getenv("GITHUB_ACTIONS") == "true" {
		if err := render.GitHubAnnotations(stderr, results); err != nil {
			return internalErr(fmt.Errorf("writing GitHub annotations: %w", err))
		}
	}
	return nil
}

// samePath reports whether two paths name the same file.
func samePath(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// appendFile appends what render writes to the file at path (GitHub's job
// summary file collects every step's summary).
func appendFile(path string, render func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// colorFor reports whether w is a terminal that wants colour: never under
// NO_COLOR (https://no-color.org) or TERM=dumb.
func colorFor(w io.Writer) bool {
	if _, ok := os.LookupEnv("NO_COLOR"); ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	return isTerminal(w)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
