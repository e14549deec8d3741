// Package reference holds a Go reference implementation of every exercise,
// run as `netgrade ref EXERCISE ARGS...`. They are what a correct student
// program does, and they prove the grader: every check must pass on them.
package reference

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Program is the reference implementation of one exercise.
type Program struct {
	// Usage is the argument synopsis, e.g. "PORT".
	Usage string
	// Run runs the program with its arguments until it is done or ctx is
	// cancelled (a server runs until then) and returns its exit status.
	Run func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// portArg checks a reference program's arguments against its synopsis
// ("PORT", "HOST PORT MESSAGE") and reads the one named PORT. On a wrong
// count or a bad port it prints the usage line and returns the exit status
// of a usage error; otherwise code is 0.
func portArg(w io.Writer, name, synopsis string, args []string) (port, code int) {
	fields := strings.Fields(synopsis)
	if len(args) != len(fields) {
		return 0, usage(w, name, synopsis)
	}
	port, err := parsePort(args[slices.Index(fields, "PORT")])
	if err != nil {
		fmt.Fprintln(w, err)
		return 0, usage(w, name, synopsis)
	}
	return port, 0
}

// parsePort reads a port argument.
func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("invalid port %q: give a number from 1 to 65535", s)
	}
	return p, nil
}

// usage prints the usage line of a reference program and returns the exit
// status of a usage error.
func usage(w io.Writer, name, synopsis string) int {
	fmt.Fprintf(w, "Usage: %s %s\n", name, synopsis)
	return 1
}
