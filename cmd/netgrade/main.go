// Command netgrade grades socket-programming exercises: it starts a
// student's server or client, talks to it over loopback sockets, checks
// what it prints and sends, and writes a report.
//
// Exit codes: 0 every check passed, 1 some check failed, 2 usage error
// (a bad command line or course file), 3 netgrade itself failed, 4 a batch
// met submissions it could not grade properly.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/netgrade/netgrade/internal/harness"
	"github.com/spf13/cobra"
)

// Exit codes of the command.
const (
	exitOK       = 0
	exitFailed   = 1
	exitUsage    = 2
	exitInternal = 3
	// exitBadSubmissions ends a batch that graded every student but met
	// submissions it could not grade properly (a corrupt archive, a folder
	// with no exercise file, a file that does not decode): they are listed
	// at its end and in summary.json.
	exitBadSubmissions = 4
)

// version is netgrade's version, written into every result.
const version = "0.1.0"

// exitError carries an exit code up to main with the message to print.
type exitError struct {
	code int
	err  error
	// noHelp leaves out the pointer to --help: the mistake is in a file
	// (a course file), not on the command line.
	noHelp bool
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// usageErr marks a bad command line (exit 2).
func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// courseErr marks a bad course file (exit 2): the message says where the
// mistake is; --help cannot fix it.
func courseErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...), noHelp: true}
}

// internalErr marks netgrade's own failure (exit 3).
func internalErr(err error) error {
	return &exitError{code: exitInternal, err: err}
}

// failedErr is the silent error of a grading with failed checks (exit 1).
var failedErr = &exitError{code: exitFailed}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "netgrade: %v\n", ee.err)
		}
		if ee.code == exitUsage && !ee.noHelp {
			fmt.Fprintln(stderr, "Run 'netgrade --help' for usage.")
		}
		return ee.code
	}
	// Errors cobra raises itself are about the command line.
	fmt.Fprintf(stderr, "netgrade: %v\nRun 'netgrade --help' for usage.\n", err)
	return exitUsage
}

// newRoot builds the command tree.
func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "netgrade",
		Short: "Grade socket-programming exercises",
		Long: `netgrade grades the socket-programming exercises of "Network programming with
Python": it starts a submission, talks to it over loopback sockets, checks what it
prints and sends, and writes a report.

Exit codes: 0 all checks passed, 1 some check failed, 2 usage error (command line
or course file), 3 netgrade error, 4 batch: some submissions could not be graded
properly (listed at its end and in summary.json).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	var verbose bool
	root.PersistentFlags().BoolVarP(&verbose, "verbose", "v", false, "say how the graded programs are contained and limited")
	root.PersistentPreRun = func(c *cobra.Command, _ []string) {
		if verbose && runsPrograms(c) {
			fmt.Fprintf(stderr, "netgrade: programs contained by %s\n", harness.Probe())
		}
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr("%v", err)
	})
	root.AddCommand(
		newListCmd(),
		newGradeCmd(),
		newRefCmd(),
		newDemoCmd(),
		newCheckCmd(),
		newCourseCmd(),
		newGradescopeCmd(),
		newBatchCmd(),
		newInteropCmd(),
		newMergeCmd(),
		newSimilarityCmd(),
		newUnitCmd(),
		newRefChildCmd(),
		newServeCmd(),
	)
	return root
}

// runsPrograms reports whether command c runs graded programs in this
// process (batch says for itself where each sandbox runs them; check and
// grade have a --verbose of their own, which says it too).
func runsPrograms(c *cobra.Command) bool {
	switch c.Name() {
	case "demo", "gradescope":
		return true
	}
	return false
}
