package main

import (
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/render"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/sandbox"
)

// batchWiring is what `netgrade batch` and `netgrade merge` take from the
// course: its exercises and check settings, how a student's file of each
// exercise is found, and how a student's own page is written.
type batchWiring struct {
	Registry *graders.Registry
	Settings sandbox.Settings
	// PerExercise gives each exercise's settings and run command (nil:
	// Settings for all, python3 for .py files).
	PerExercise func(exercise string) (sandbox.Settings, []string)
	Find        batch.Finder
	Expected    func(exercise string) string
	StudentPage batch.PageFunc
}

// newBatchWiring returns the default course's wiring: file names
// EXERCISE.py, and a plain page per student.
//
// TODO(course): take the registry, settings and file names from the course
// file (internal/course) and write the student page with render.HTML.
func newBatchWiring() batchWiring {
	return batchWiring{
		Registry: graders.Default(),
		Find:     batch.NamesFinder(batch.DefaultNames),
		Expected: func(ex string) string { return strings.Join(batch.DefaultNames(ex), " or ") },
		// Fallback until the per-submission HTML format is wired in: the
		// text report in a page.
		StudentPage: plainStudentPage,
	}
}

// plainStudentPage writes a student's results as the text report inside a
// minimal HTML page (the fallback for the per-submission HTML format).
func plainStudentPage(w io.Writer, results []report.Result) error {
	var text strings.Builder
	if err := render.Text(&text, results, render.TextOptions{}); err != nil {
		return err
	}
	title := "netgrade report"
	if len(results) > 0 {
		sub, _, _ := strings.Cut(results[0].Submission, "/")
		title = "netgrade report: " + sub
	}
	_, err := fmt.Fprintf(w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>%s</title>\n<style>body{font:14px/1.4 ui-monospace,monospace;margin:24px}pre{white-space:pre-wrap}</style></head>\n<body>\n<p><a href=\"../report.html\">← class report</a></p>\n<pre>%s</pre>\n</body>\n</html>\n",
		html.EscapeString(title), html.EscapeString(text.String()))
	return err
}
