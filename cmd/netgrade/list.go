package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/coursefile"
	"github.com/netgrade/netgrade/internal/render"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/suggest"
	"github.com/spf13/cobra"
)

func newListCmd() *cobra.Command {
	var cf courseFlag
	c := &cobra.Command{
		Use:   "list [EXERCISE]",
		Short: "List the exercises and their checks, as the course grades them",
		Long: `List the exercises of the course (the built-in one unless --course FILE) with
their file names and checks: each check's category and points, and what the
course file changes: its points, its visibility (hidden, after_due_date), a
check switched off ("off": not run, not counted), a check graded only when the
course sets a text. Each exercise ends with its total, the course with its own.`,
		Example: "  netgrade list\n  netgrade list --course course.yaml tcp-tickets",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			crs, err := cf.read()
			if err != nil {
				return err
			}
			exs := crs.Exercises
			if len(args) == 1 {
				e := crs.Exercise(args[0])
				if e == nil {
					return usageErr("unknown exercise %q%s; the course's exercises: %s", args[0], suggest.DidYouMean(args[0], crs.IDs()), strings.Join(crs.IDs(), ", "))
				}
				exs = []*coursefile.Entry{e}
			}
			return listCourse(c.OutOrStdout(), crs, exs, len(args) == 0)
		},
	}
	c.Flags().StringVar(&cf.path, "course", "", "course file (YAML) whose points, visibility and switched-off checks to show; default: the built-in course")
	return c
}

// listCourse writes the exercises with their checks as the course grades
// them, each exercise's total and, when whole, the course's.
func listCourse(out io.Writer, crs *coursefile.Course, exs []*coursefile.Entry, whole bool) error {
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	total := 0.0
	for i, e := range exs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if e.Grader == nil {
			fmt.Fprintf(w, "%s\t(this netgrade has no grader for it: listed, never graded)\n", e.ID)
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%s\tfile: %s\n", e.ID, e.Grader.Title, e.Grader.Usage, strings.Join(e.Files, " or "))
		set := crs.Settings(e.ID)
		sub, off := 0.0, 0
		for _, ch := range e.Grader.Checks {
			cs := set.Check(ch.ID)
			pts := ch.Points
			var notes []string
			if cs.Points != nil {
				pts = *cs.Points
				if pts != ch.Points {
					notes = append(notes, fmt.Sprintf("course: %s pt (default %s)", render.Num(pts), render.Num(ch.Points)))
				}
			}
			if cs.Visibility != "" && cs.Visibility != report.Visible {
				notes = append(notes, string(cs.Visibility))
			}
			if cs.Timeout > 0 {
				notes = append(notes, "deadline "+cs.Timeout.String())
			}
			if len(ch.Needs) > 0 {
				notes = append(notes, "needs "+strings.Join(ch.Needs, ", "))
			}
			ptsCol := render.Num(pts) + " pt"
			switch why := batch.OffReason(e.Grader, ch, set); {
			case why != "":
				ptsCol = "off"
				notes = append([]string{why}, notes...)
				off++
			default:
				sub += pts
				if ch.OnlyWithText != "" {
					notes = append(notes, "graded because the course sets the text "+ch.OnlyWithText)
				}
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\n", ch.ID, ch.Category, ptsCol, ch.Title, strings.Join(notes, "; "))
		}
		offNote := ""
		if off > 0 {
			offNote = fmt.Sprintf(" (%s not graded)", plural(off, "check"))
		}
		fmt.Fprintf(w, "  total\t\t%s pt\t%s\n", render.Num(sub), strings.TrimPrefix(offNote, " "))
		total += sub
	}
	if whole && len(exs) > 1 {
		fmt.Fprintf(w, "\ncourse total\t\t%s pt\t%s\n", render.Num(total), plural(len(exs), "exercise"))
	}
	return w.Flush()
}
