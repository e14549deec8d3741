package render

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/netgrade/netgrade/internal/report"
)

// SummaryRow is one exercise of a student's folder in the summary table:
// graded (Result set) or not (Note says why, e.g. the file is missing).
type SummaryRow struct {
	Exercise string
	File     string
	Result   *report.Result
	Note     string
	// Missing is true when the folder holds no file for the exercise.
	Missing bool
}

// maxListed bounds the failing checks named in one row of the summary.
const maxListed = 4

// Summary writes the table that ends `netgrade check`: a row per exercise
// of the course (exercise, file, score, failing checks, or why it was not
// graded), then the total and the files that are missing. With Student set
// the failing checks the course hides are not named.
func Summary(w io.Writer, rows []SummaryRow, opt TextOptions) error {
	t := &textWriter{w: w, opt: opt}
	t.printf("\n%s\n", t.style(ansiBold, "Summary"))
	tw := tabwriter.NewWriter(w, 2, 4, 3, ' ', 0)
	fmt.Fprintf(tw, "  exercise\tfile\tscore\tfailing checks\n")
	var graded []report.Result
	var missing []string
	passed := 0
	for _, row := range rows {
		if row.Result == nil {
			fmt.Fprintf(tw, "  %s\t%s\t–\t%s\n", Terminal(row.Exercise, false), Terminal(row.File, false), Terminal(row.Note, false))
			if row.Missing {
				missing = append(missing, row.File)
			}
			continue
		}
		r := *row.Result
		if opt.Student {
			r = ForStudents([]report.Result{r})[0]
		}
		graded = append(graded, r)
		var failing []string
		for _, c := range r.Checks {
			if c.Status == report.Fail {
				_, short, _ := strings.Cut(c.ID, "/")
				failing = append(failing, short)
			}
		}
		if len(failing) > maxListed {
			failing = append(failing[:maxListed], fmt.Sprintf("+%d more", len(failing)-maxListed))
		}
		what := strings.Join(failing, ", ")
		switch {
		case r.Passed() && r.CountUnjudged() > 0:
			what = fmt.Sprintf("none: all judged checks pass (%d not judged, left out of the score)", r.CountUnjudged())
			passed++
		case r.Passed():
			what = "none: all checks pass"
			passed++
		case what == "" && r.HasErrors():
			what = "none (netgrade could not run some checks)"
		case what == "":
			what = "none (some checks skipped)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s/%s\t%s\n", Terminal(row.Exercise, false), Terminal(row.File, false), Num(r.Score), Num(r.MaxScore), Terminal(what, false))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	score, maxScore := report.Total(graded)
	line := fmt.Sprintf("%d of %d graded exercises pass; total %s/%s.", passed, len(graded), Num(score), Num(maxScore))
	code := ansiGreen
	if passed < len(graded) {
		code = ansiRed
	}
	t.printf("\n%s\n", t.style(ansiBold+code, line))
	if len(missing) > 0 {
		t.printf("Missing files: %s\n", Terminal(strings.Join(missing, ", "), false))
	}
	return t.err
}
