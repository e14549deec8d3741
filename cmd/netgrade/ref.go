package main

import (
	"fmt"
	"strings"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/internal/apispec"
	"github.com/spf13/cobra"
)

func newRefCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ref EXERCISE ARGS...",
		Short: "Run the reference implementation of an exercise",
		// The exercise's arguments are passed through untouched: a message
		// may well start with a dash.
		DisableFlagParsing: true,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
				return c.Help()
			}
			prog, err := course.Reference(args[0])
			if err != nil {
				return usageErr("%v", err)
			}
			if code := prog.Run(c.Context(), args[1:], c.OutOrStdout(), c.ErrOrStderr()); code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
	// The long help lists every exercise's arguments, which builds the
	// course (the REST exercise parses its API document): done when the
	// help is shown, not on every start of netgrade, which the sandboxes
	// start once a unit or an interop cell.
	help := cmd.HelpFunc()
	cmd.SetHelpFunc(func(c *cobra.Command, args []string) {
		c.Long = refLong()
		help(c, args)
	})
	return cmd
}

// refLong is the ref command's long help.
func refLong() string {
	return `Run netgrade's reference implementation of an exercise with the exercise's own
arguments, e.g. 'netgrade ref udp-server 1234' or
'netgrade ref udp-client 127.0.0.1 1234 "hello"'. A server runs until interrupted.

` + refSynopses() + `
rest-api's --spec DOCUMENT serves another OpenAPI document than the course's
` + apispec.DefaultName + `: a built-in one (` + strings.Join(apispec.Builtins(), ", ") + `) or a file;
'netgrade course show --spec' prints the course's.`
}

// refSynopses lists every exercise with the arguments its reference
// takes, in course order.
func refSynopses() string {
	var b strings.Builder
	b.WriteString("Exercises and their arguments:\n")
	for _, e := range course.Exercises() {
		fmt.Fprintf(&b, "  netgrade ref %-14s %s\n", e.ID(), e.Reference.Usage)
	}
	return b.String()
}
