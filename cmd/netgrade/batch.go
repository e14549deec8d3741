package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/render"
	"github.com/netgrade/netgrade/internal/sandbox"
	"github.com/spf13/cobra"
)

// jobsPerCore is the default number of students graded at once per core:
// grading mostly waits (for a program to start, for a datagram, for a
// negative check's window), so several gradings keep one core busy.
const jobsPerCore = 4

// defaultJobs is the default of -j.
func defaultJobs() int { return jobsPerCore * runtime.NumCPU() }

// batchFlags are the flags of `netgrade batch`.
type batchFlags struct {
	out        string
	jobs       int
	sandbox    string
	regrade    bool
	shard      string
	image      string
	unitBinary string
	exercises  []string
	course     courseFlag
}

func newBatchCmd() *cobra.Command {
	var f batchFlags
	c := &cobra.Command{
		Use:   "batch SUBMISSIONS -o OUT",
		Short: "Grade a whole class: every student on every exercise, in isolation, in parallel",
		Long: `Grade a whole class. SUBMISSIONS is a folder holding one folder or one .zip
archive per student (as learning-management systems export them); each student
is graded on every exercise of the course, several at a time (-j), each in a
sandbox of its own.

Written to OUT:
  students/ID.json   one per student, written as soon as that student is done
  students/ID.html   the student's own report page
  grades.csv         one row per student: a column per exercise, then the total
  summary.json       pass rate of every check, averages, score histogram
  report.html        the class report

An interrupted batch (Ctrl-C, crash) resumes where it stopped when run again:
students already done are skipped, unless --regrade or their files changed.

A file not handed in is not a failed check: the gradebook says "missing" and
the pass rates count only the students who handed the exercise in. A submission
netgrade cannot grade properly (an archive that is no zip, a folder with no
exercise file, a source file that is not UTF-8) is named as it happens, again
at the end and in summary.json, and the batch then exits with status 4.

Exit status: 0 every student graded, 2 bad command line or course file, 3
netgrade could not grade some students or was interrupted (run it again), 4
some submissions could not be graded properly (listed at the end).

Sandboxes (--sandbox):
  netns    each student in new user, network, PID and mount namespaces: a
           loopback of its own and no other network, its own /proc, and every
           process it started dies with it. The default where it works; if the
           system does not allow it, netgrade says so and uses process.
  docker   each student in a container: no network, memory, pids and CPU
           limits, files mounted read-only (--image, default ` + sandbox.DefaultImage + `).
  process  plain processes: no isolation at all (the report says so).`,
		Example: `  netgrade batch submissions/ -o results/
  netgrade batch submissions/ -o results/ --sandbox docker --image ` + sandbox.LocalImage + `
  netgrade batch submissions/ -o shard-0/ --shard 0/4     (then: netgrade merge shard-*/ -o results/)`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("give the folder of submissions: netgrade batch SUBMISSIONS -o OUT")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			return runBatch(c, args[0], f)
		},
	}
	fl := c.Flags()
	fl.StringVarP(&f.out, "output", "o", "", "output folder (required)")
	fl.IntVarP(&f.jobs, "jobs", "j", defaultJobs(), "students graded at the same time")
	fl.StringVar(&f.sandbox, "sandbox", "", "isolation: netns, docker or process (default netns where it works, else process)")
	fl.BoolVar(&f.regrade, "regrade", false, "grade every student again, even those already done")
	fl.StringVar(&f.shard, "shard", "", "grade only part K of N of the class (K/N, K from 0), e.g. for a Kubernetes indexed Job")
	f.course.register(c)
	fl.StringVar(&f.image, "image", sandbox.DefaultImage, "with --sandbox docker: the image submissions run in")
	fl.StringVar(&f.unitBinary, "unit-binary", "", "with --sandbox docker: a static netgrade binary to run in the containers (default: this one)")
	fl.StringSliceVar(&f.exercises, "exercise", nil, "grade only these exercises (default: every exercise of the course)")
	return c
}

func runBatch(c *cobra.Command, subs string, f batchFlags) error {
	ctx := c.Context()
	stderr := c.ErrOrStderr()
	if f.out == "" {
		return usageErr("give the output folder with -o OUT")
	}
	if f.jobs < 1 {
		return usageErr("-j must be at least 1")
	}
	var shard batch.Shard
	if f.shard != "" {
		var err error
		if shard, err = batch.ParseShard(f.shard); err != nil {
			return usageErr("%v", err)
		}
	}
	crs, err := f.course.load()
	if err != nil {
		return err
	}
	w := newBatchWiring(crs)
	exs, err := courseExercises(w.Registry, f.exercises)
	if err != nil {
		return err
	}
	students, err := batch.Discover(subs)
	if err != nil {
		return usageErr("%v", err)
	}
	if len(students) == 0 {
		return usageErr("%s holds no student folder or .zip archive", subs)
	}
	students = shard.Select(students)

	sb, note, err := chooseSandbox(ctx, f, w.Registry)
	if err != nil {
		return err
	}
	defer sb.Close()
	// A program that cannot import a module is told which interpreter or
	// image of the grading machine lacks it.
	ms := moduleSandbox{Sandbox: sb, advice: pyenv.NewAdvisor(nil)}
	if sb.Name() == sandbox.Docker {
		ms.image = f.image
	}
	if note != "" {
		fmt.Fprintf(stderr, "netgrade batch: %s\n", note)
	}
	if shard.N > 1 {
		fmt.Fprintf(stderr, "netgrade batch: shard %s: %s\n", shard, plural(len(students), "student"))
	}
	fmt.Fprintf(stderr, "netgrade batch: sandbox %s, %d at a time\n", sb.Name(), f.jobs)
	if verbose, _ := c.Flags().GetBool("verbose"); verbose {
		if sb.Name() == sandbox.Process {
			fmt.Fprintf(stderr, "netgrade batch: programs contained by %s\n", harness.Probe())
		} else {
			fmt.Fprintf(stderr, "netgrade batch: inside each %s sandbox, the unit runner contains the programs; each result's \"containment\" says how\n", sb.Name())
		}
	}

	begin := time.Now()
	out, err := batch.Run(ctx, students, batch.Options{
		Out: f.out, Jobs: f.jobs, Regrade: f.regrade,
		Exercises: exs, Course: w.Course, Sandbox: ms, SandboxNote: note,
		Find: w.Find, Expected: w.Expected, StudentPage: w.StudentPage,
		Progress: batch.NewProgress(stderr, isTerminal(stderr)),
		Version:  version,
	})
	if err != nil {
		return internalErr(err)
	}
	sum, err := batch.WriteClassFiles(f.out, exs, batch.ReportMeta{Version: version, Course: w.Course})
	if err != nil {
		return internalErr(err)
	}
	report := c.OutOrStdout()
	fmt.Fprintf(report, "Graded %s in %s (%d already done); %s in %s, average %s of %s.\n",
		plural(out.Graded, "student"), time.Since(begin).Round(100*time.Millisecond), out.Skipped, plural(sum.Students, "student"), f.out, render.Num(sum.AverageScore), render.Num(sum.MaxScore))
	fmt.Fprintf(report, "Wrote %s, %s and %s.\n", filepath.Join(f.out, "grades.csv"), filepath.Join(f.out, "summary.json"), filepath.Join(f.out, "report.html"))
	if out.Interrupted {
		left := out.Students - out.Skipped - out.Graded - len(out.Errors)
		return internalErr(fmt.Errorf("interrupted: %s not graded yet; run the same command again to grade them (those done are kept)", plural(left, "student")))
	}
	var problems []string
	if len(out.Errors) > 0 {
		ids := make([]string, 0, len(out.Errors))
		for id := range out.Errors {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		problems = append(problems, fmt.Sprintf("netgrade could not grade %s (%s)", plural(len(ids), "student"), strings.Join(ids, ", ")))
	}
	if len(out.Incomplete) > 0 {
		slices.Sort(out.Incomplete)
		problems = append(problems, fmt.Sprintf("netgrade could not run some checks for %s (%s): their reports say why", plural(len(out.Incomplete), "student"), strings.Join(out.Incomplete, ", ")))
	}
	if len(problems) > 0 {
		return internalErr(fmt.Errorf("%s; run the same command again to retry them", strings.Join(problems, "; ")))
	}
	return badSubmissions(report, sum)
}

// badSubmissions names the submissions the class could not be graded
// properly on, with why, and returns the error of exit status 4; nil when
// there are none.
func badSubmissions(w io.Writer, sum batch.Summary) error {
	if len(sum.Problems) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\n%s could not be graded properly:\n", plural(len(sum.Problems), "submission"))
	for _, p := range sum.Problems {
		fmt.Fprintf(w, "  %s: %s\n", render.Terminal(p.Student, false), render.Terminal(p.Reason, false))
	}
	return &exitError{code: exitBadSubmissions, err: fmt.Errorf("%s could not be graded properly (listed above and in summary.json)", plural(len(sum.Problems), "submission"))}
}

// plural returns "1 submission", "2 submissions".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// courseExercises returns the course's exercises, or the ones asked for.
func courseExercises(reg *graders.Registry, only []string) ([]*graders.Exercise, error) {
	if len(only) == 0 {
		return reg.Exercises(), nil
	}
	var exs []*graders.Exercise
	for _, id := range only {
		ex, err := reg.Get(id)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		exs = append(exs, ex)
	}
	return exs, nil
}

// chooseSandbox returns the sandbox asked for, and a note when it is not
// the one asked for or isolates nothing.
func chooseSandbox(ctx context.Context, f batchFlags, reg *graders.Registry) (sandbox.Sandbox, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", internalErr(fmt.Errorf("finding netgrade's own binary: %w", err))
	}
	interp := pyenv.NewInterpreters()
	switch f.sandbox {
	case sandbox.Process:
		return sandbox.NewProcess(reg, interp), "the process sandbox isolates nothing: submissions share this machine's loopback and processes", nil
	case "", sandbox.Netns:
		nerr := sandbox.NetnsAvailable(ctx, self)
		if nerr == nil {
			python, _ := interp.Resolve(ctx, "python3")
			return sandbox.NewNetns(self, python), "", nil
		}
		if f.sandbox == sandbox.Netns {
			return nil, "", internalErr(fmt.Errorf("the netns sandbox is unavailable: %w (use --sandbox process to grade without isolation)", nerr))
		}
		return sandbox.NewProcess(reg, interp), fmt.Sprintf("the netns sandbox is unavailable (%v); grading with the process sandbox, WITHOUT isolation", nerr), nil
	case sandbox.Docker:
		bin := f.unitBinary
		if bin == "" {
			bin = self
		}
		out, _ := filepath.Abs(f.out)
		sb, err := sandbox.NewDocker(ctx, sandbox.DockerConfig{Image: f.image, Binary: bin, Pull: true,
			Labels: map[string]string{sandbox.LabelOut: out}})
		if err != nil {
			return nil, "", internalErr(err)
		}
		return sb, "", nil
	default:
		return nil, "", usageErr("unknown sandbox %q: use one of %s", f.sandbox, strings.Join(sandbox.Kinds(), ", "))
	}
}

func newMergeCmd() *cobra.Command {
	var out string
	var cf courseFlag
	c := &cobra.Command{
		Use:   "merge OUT1 OUT2... -o OUT",
		Short: "Join the outputs of several batches (shards of a class) into one",
		Long: `Join the outputs of several 'netgrade batch' runs, such as the shards of a class
graded with --shard on several machines, into one folder, and write its
gradebook, summary and class report. A student found in several outputs keeps
the grading done last. Like batch, it names the submissions that could not be
graded properly and then exits with status 4.`,
		Example: "  netgrade merge shard-0 shard-1 shard-2 shard-3 -o results",
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("give the batch outputs to merge: netgrade merge OUT1 OUT2... -o OUT")
			}
			if out == "" {
				return usageErr("give the merged output folder with -o OUT")
			}
			m, err := batch.Merge(args, out)
			if err != nil {
				if strings.Contains(err.Error(), "not a netgrade batch output") {
					return usageErr("%v", err)
				}
				return internalErr(err)
			}
			crs, err := cf.load()
			if err != nil {
				return err
			}
			w := newBatchWiring(crs)
			sum, err := batch.WriteClassFiles(out, w.Registry.Exercises(), batch.ReportMeta{Version: version, Course: w.Course})
			if err != nil {
				return internalErr(err)
			}
			if len(m.Duplicates) > 0 {
				fmt.Fprintf(c.ErrOrStderr(), "netgrade merge: %s in several outputs; kept the grading done last: %s\n", plural(len(m.Duplicates), "student"), strings.Join(m.Duplicates, ", "))
			}
			fmt.Fprintf(c.OutOrStdout(), "Merged %d outputs: %s in %s, average %s of %s.\n", len(args), plural(sum.Students, "student"), out, render.Num(sum.AverageScore), render.Num(sum.MaxScore))
			return badSubmissions(c.OutOrStdout(), sum)
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "merged output folder (required)")
	cf.register(c)
	return c
}
