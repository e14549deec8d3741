package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/graders"
	"github.com/spf13/cobra"
)

func newListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list [EXERCISE]",
		Short: "List the exercises and their checks",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			reg := course.Registry()
			exs := reg.Exercises()
			if len(args) == 1 {
				e, err := reg.Get(args[0])
				if err != nil {
					return usageErr("%v", err)
				}
				exs = []*graders.Exercise{e}
			}
			w := tabwriter.NewWriter(c.OutOrStdout(), 2, 4, 2, ' ', 0)
			for i, e := range exs {
				if i > 0 {
					fmt.Fprintln(w)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\n", e.ID, e.Title, e.Usage)
				for _, ch := range e.Checks {
					needs := ""
					if len(ch.Needs) > 0 {
						needs = "needs " + strings.Join(ch.Needs, ", ")
					}
					if ch.OnlyWithText != "" {
						needs = strings.TrimPrefix(needs+"; only when the course sets the text "+ch.OnlyWithText, "; ")
					}
					fmt.Fprintf(w, "  %s\t%s\t%g pt\t%s\t%s\n", ch.ID, ch.Category, ch.Points, ch.Title, needs)
				}
			}
			return w.Flush()
		},
	}
}
