package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/observe"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/spf13/cobra"
)

func newGradeCmd() *cobra.Command {
	var out outputFlags
	var crs courseFlag
	var ref, verbose bool
	var only []string
	c := &cobra.Command{
		Use:   "grade EXERCISE (FILE | --ref | -- CMD ARGS...)",
		Short: "Grade one program on one exercise",
		Long: `Grade one program on one exercise.

  netgrade grade udp-server udp-server.py      a .py file runs under python3
  netgrade grade udp-server ./server           any executable
  netgrade grade udp-client -- node client.js {host} {port} {message}
  netgrade grade udp-server --ref              netgrade's reference implementation

In a command after --, the placeholders {port}, {host} and {message} are filled
for each run; a command without placeholders gets the exercise's arguments
appended (udp-server: {port}; udp-client: {host} {port} {message}).`,
		Example: "  netgrade grade udp-server udp-server.py --format json -o result.json",
		RunE: func(c *cobra.Command, args []string) error {
			specs, err := out.parse()
			if err != nil {
				return err
			}
			cs, err := crs.load()
			if err != nil {
				return err
			}
			sub, ex, err := submissionFromArgs(c, args, ref)
			if err != nil {
				return err
			}
			if e := cs.Exercise(ex.ID); e != nil && e.Grader != nil && sub.File != "" {
				// A file runs as the course says files run.
				if sub, err = cs.Submission(e, sub.File); err != nil {
					return usageErr("%v", err)
				}
			}
			if verbose {
				sayMechanisms(c.ErrOrStderr())
			}
			opt := newOptions()
			set := cs.Settings(ex.ID)
			set.Only = only
			opt.Course = set
			res := ex.Grade(c.Context(), sub, opt)
			if c.Context().Err() != nil {
				return internalErr(fmt.Errorf("interrupted"))
			}
			rs := []report.Result{res}
			pyenv.NewAdvisor(opt.Interpreters).Local(c.Context(), rs, "netgrade grade")
			res = rs[0]
			if err := writeFor(specs, []report.Result{res}, c.OutOrStdout(), renderOpts{}); err != nil {
				return err
			}
			if err := githubStep(specs, []report.Result{res}, c.ErrOrStderr()); err != nil {
				return err
			}
			return verdictErr([]report.Result{res})
		},
	}
	out.register(c)
	crs.register(c)
	c.Flags().BoolVar(&ref, "ref", false, "grade netgrade's own reference implementation")
	c.Flags().StringSliceVar(&only, "check", nil, "run only these check IDs (comma-separated)")
	c.Flags().BoolVarP(&verbose, "verbose", "v", false, verboseUsage)
	return c
}

// verboseUsage is the help of --verbose.
const verboseUsage = "say how netgrade observes the programs (sockets, process trees, exits) and contains them (cgroup or subreaper, limits); each readiness wait's mechanism is in the transcripts"

// sayMechanisms tells, for --verbose, how programs are observed and
// contained here.
func sayMechanisms(w io.Writer) {
	fmt.Fprintf(w, "netgrade: observing programs: %s\n", observe.ProbeMechanisms())
	fmt.Fprintf(w, "netgrade: programs contained by %s\n", harness.Probe())
}

// submissionFromArgs reads EXERCISE and the program from the command line.
func submissionFromArgs(c *cobra.Command, args []string, ref bool) (graders.Submission, *graders.Exercise, error) {
	dash := c.ArgsLenAtDash()
	before, after := args, []string(nil)
	if dash >= 0 {
		before, after = args[:dash], args[dash:]
	}
	if len(before) == 0 {
		return graders.Submission{}, nil, usageErr("give the exercise to grade (see 'netgrade list')")
	}
	ex, err := course.Registry().Get(before[0])
	if err != nil {
		return graders.Submission{}, nil, usageErr("%v", err)
	}
	switch {
	case ref:
		if len(before) > 1 || len(after) > 0 {
			return graders.Submission{}, nil, usageErr("--ref grades the reference implementation: give no file or command")
		}
		self, err := os.Executable()
		if err != nil {
			return graders.Submission{}, nil, internalErr(fmt.Errorf("finding netgrade's own binary: %w", err))
		}
		return graders.Submission{Name: "reference:" + ex.ID, Command: []string{self, "ref", ex.ID}}, ex, nil
	case len(after) > 0:
		if len(before) > 1 {
			return graders.Submission{}, nil, usageErr("give either a FILE or a command after --, not both")
		}
		return graders.Submission{Name: strings.Join(after, " "), Command: after}, ex, nil
	case len(before) == 2:
		sub, err := graders.FileSubmission(before[1])
		if err != nil {
			return graders.Submission{}, nil, usageErr("%v", err)
		}
		return sub, ex, nil
	case len(before) > 2:
		return graders.Submission{}, nil, usageErr("too many arguments: to grade a command with arguments, put it after --")
	default:
		return graders.Submission{}, nil, usageErr("give the program to grade: a FILE, --ref, or -- CMD ARGS...")
	}
}

// verdictErr turns the results into the exit status: 1 when a check
// failed, 3 when netgrade erred (and nothing failed), nil when all passed.
func verdictErr(results []report.Result) error {
	failed, errored := false, false
	for _, r := range results {
		failed = failed || r.Count(report.Fail) > 0
		errored = errored || r.HasErrors()
	}
	switch {
	case failed:
		return failedErr
	case errored:
		return &exitError{code: exitInternal, err: fmt.Errorf("netgrade could not run some checks (status error in the report)")}
	}
	return nil
}

// newOptions returns grading options shared by every grading of one run.
func newOptions() graders.Options {
	return graders.Options{Interpreters: pyenv.NewInterpreters(), Version: version}
}
