package main

import (
	"github.com/netgrade/netgrade/course"
	"github.com/spf13/cobra"
)

func newRefCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "ref EXERCISE ARGS...",
		Short: "Run the reference implementation of an exercise",
		Long: `Run netgrade's reference implementation of an exercise with the exercise's own
arguments, e.g. 'netgrade ref udp-server 1234' or
'netgrade ref udp-client 127.0.0.1 1234 "hello"'. A server runs until interrupted.`,
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
}
