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

// Program is the reference implementation of one exercise, ready to run
// under the exercise's command line (see NewProgram).
type Program struct {
	// Usage is the synopsis of the program's arguments, e.g. "PORT":
	// derived from the exercise's command line, never written by hand.
	Usage string
	// Run runs the program with its arguments until it is done or ctx is
	// cancelled (a server runs until then) and returns its exit status.
	Run func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// Main is the main function of a reference implementation: it reads args
// by cmd's synopsis and prints cmd's usage line when they do not fit.
type Main func(ctx context.Context, cmd Command, args []string, stdout, stderr io.Writer) int

// Command is a reference program's command line: its name and the
// synopsis of its arguments, "udp-server" and "PORT".
type Command struct {
	Name, Synopsis string
}

// CommandOf returns the command of an exercise whose command line the
// course fixes as usage (graders.Exercise.Usage: "udp-server.py PORT"),
// the one place it is written: the name is the file's without .py, the
// synopsis the words after it, with options, the synopsis of the
// reference's own options ("[--spec DOCUMENT]" of rest-api), in front.
func CommandOf(usage, options string) Command {
	file, synopsis, _ := strings.Cut(usage, " ")
	if options != "" {
		synopsis = strings.TrimSpace(options + " " + synopsis)
	}
	return Command{Name: strings.TrimSuffix(file, ".py"), Synopsis: synopsis}
}

// NewProgram returns the program that runs main under the command line
// of an exercise whose usage the course fixes (see CommandOf).
func NewProgram(usage, options string, main Main) Program {
	cmd := CommandOf(usage, options)
	return Program{
		Usage: cmd.Synopsis,
		Run: func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
			return main(ctx, cmd, args, stdout, stderr)
		},
	}
}

// portArg checks a reference program's arguments against its synopsis
// ("PORT", "HOST PORT MESSAGE") and reads the one named PORT. On a wrong
// count or a bad port it prints the usage line and returns the exit status
// of a usage error; otherwise code is 0.
func portArg(w io.Writer, cmd Command, args []string) (port, code int) {
	fields := strings.Fields(cmd.Synopsis)
	if len(args) != len(fields) {
		return 0, usage(w, cmd)
	}
	port, err := parsePort(args[slices.Index(fields, "PORT")])
	if err != nil {
		fmt.Fprintln(w, err)
		return 0, usage(w, cmd)
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
func usage(w io.Writer, cmd Command) int {
	fmt.Fprintf(w, "Usage: %s %s\n", cmd.Name, cmd.Synopsis)
	return 1
}

// Dispatch runs a reference program when args are a reference command
// line, "ref EXERCISE ARGS..." or ChildCommand's, as a program that
// re-executes itself in netgrade's place needs (the graders' tests, the
// flake guard); ok is false for any other command line. get finds the
// reference program of an exercise (the course's table).
func Dispatch(ctx context.Context, args []string, get func(exercise string) (Program, error), stdout, stderr io.Writer) (code int, ok bool) {
	if len(args) == 0 {
		return 0, false
	}
	switch args[0] {
	case ChildCommand:
		return RunChild(ctx, args[1:], stdout, stderr), true
	case "ref":
		if len(args) < 2 {
			fmt.Fprintln(stderr, "usage: ref EXERCISE ARGS...")
			return 2, true
		}
		p, err := get(args[1])
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2, true
		}
		return p.Run(ctx, args[2:], stdout, stderr), true
	}
	return 0, false
}
