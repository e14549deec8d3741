package main

import (
	"github.com/netgrade/netgrade/reference"
	"github.com/spf13/cobra"
)

// newRefChildCmd is the hidden command the forking reference re-executes
// netgrade with, once per client, the connection on descriptor 3.
func newRefChildCmd() *cobra.Command {
	return &cobra.Command{
		Use:                reference.ChildCommand + " EXERCISE",
		Short:              "Serve one connection handed over by a reference server (internal)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(c *cobra.Command, args []string) error {
			if code := reference.RunChild(c.Context(), args, c.OutOrStdout(), c.ErrOrStderr()); code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
}
