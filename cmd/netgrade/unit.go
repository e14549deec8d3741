package main

import (
	"fmt"
	"io"
	"os"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/internal/sandbox"
	"github.com/spf13/cobra"
)

// newUnitCmd is the hidden unit runner: the grading of one submission,
// run by `netgrade batch` inside a sandbox (new namespaces or a container).
// It reads the unit (JSON) from --request or standard input and streams
// its results to standard output as JSON lines.
func newUnitCmd() *cobra.Command {
	var initMode, setup, probe, pair, serve bool
	var request string
	c := &cobra.Command{
		Use:    "unit",
		Short:  "Grade one submission inside a sandbox (used by netgrade batch)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if initMode {
				var args []string
				if request != "" {
					args = []string{"--request", request}
				}
				if pair {
					args = append(args, "--pair")
				}
				if serve {
					args = append(args, "--serve")
				}
				handled, code := sandbox.Init(sandbox.InitOptions{Setup: setup, Probe: probe, Args: args}, c.OutOrStdout())
				if handled {
					if code != 0 {
						return &exitError{code: code}
					}
					return nil
				}
			}
			if pair && serve {
				if err := sandbox.ServePairs(c.Context(), os.Stdin, c.OutOrStdout(), interopPairFunc()); err != nil {
					return &exitError{code: exitInternal}
				}
				return nil
			}
			data := []byte(request)
			if request == "" {
				var err error
				if data, err = io.ReadAll(os.Stdin); err != nil {
					return internalErr(fmt.Errorf("reading the unit: %w", err))
				}
			}
			if pair {
				return servePair(c.Context(), data, c.OutOrStdout())
			}
			u, err := sandbox.ParseUnit(data)
			if err != nil {
				return internalErr(err)
			}
			r := sandbox.Runner{Registry: course.Registry()}
			if err := r.Serve(c.Context(), u, c.OutOrStdout()); err != nil {
				return &exitError{code: exitInternal}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&initMode, "init", false, "run as PID 1 of the unit's namespace: reap orphans")
	c.Flags().BoolVar(&setup, "setup", false, "with --init: mount a fresh /proc and bring the loopback up")
	c.Flags().BoolVar(&probe, "probe", false, "with --init: only report that the namespace could be set up")
	c.Flags().BoolVar(&pair, "pair", false, "run a cell of the interop matrix (two programs together) instead of grading a unit")
	c.Flags().BoolVar(&serve, "serve", false, "with --pair: serve pairs one after another, a JSON line each on standard input, until it ends (the netns sandbox's pool)")
	c.Flags().StringVar(&request, "request", "", "the unit to grade, as JSON (default: read from standard input)")
	return c
}
