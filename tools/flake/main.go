// Command flake is netgrade's flake guard for the concurrency exercises
// (`make flake`): it grades the reference and every fixture of
// tcp-forking, tcp-threading and tcp-tickets RUNS times in a row while
// every core is kept busy by CPU burners, and reports every check whose
// verdict changed from one run to another, and every verdict that differs
// from what the fixture declares. It exits 0 only when there is neither.
//
// With -sandbox (process, netns or docker) it grades the fixtures as an
// instructor's batch does, through `netgrade batch` in that sandbox, one
// student per fixture (`make flake-sandboxes` runs the HTTP server's that
// way).
//
// With -check and -sample it grades fewer checks and submissions many
// more times: `-exercise tcp-forking -check tcp-forking/process-per-client
// -sample reference -runs 2000` runs the forking reference's process-model
// check long enough to catch a verdict that changes once in several
// hundred gradings.
//
// The burners are this program re-executed (`flake burn`); they stop by
// themselves at their deadline or when this program dies, and are killed
// when it ends. The same re-execution stands in for netgrade when a
// reference is graded (`flake ref EXERCISE PORT`).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/samples"
	"github.com/netgrade/netgrade/internal/sandbox"
)

// defaultExercises are the exercises whose verdicts depend on concurrency.
var defaultExercises = []string{"tcp-forking", "tcp-threading", "tcp-tickets"}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if code, ok := course.Dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr); ok {
		os.Exit(code)
	}
	if len(os.Args) > 1 && os.Args[1] == "burn" {
		os.Exit(burn(os.Args[2:]))
	}
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// job is one submission graded in every run.
type job struct {
	*samples.Sample
	// per run: check ID → status, and the grading time
	verdicts []map[string]report.Status
	millis   []int64
	// messages of checks that did not pass, per run: check ID → message
	messages []map[string]string
	// per run: the sorted IDs of the failed checks and of those that ended
	// in a netgrade error
	failed, errored [][]string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("flake", flag.ContinueOnError)
	fl.SetOutput(stderr)
	runs := fl.Int("runs", 20, "how many times every submission is graded")
	jobs := fl.Int("jobs", 4, "submissions graded at the same time")
	burners := fl.Int("burn", runtime.NumCPU(), "CPU burner processes kept running (0: none)")
	burnMax := fl.Duration("burn-max", 90*time.Minute, "the burners stop by themselves after this long")
	exercises := fl.String("exercise", strings.Join(defaultExercises, ","), "exercises to grade, comma-separated")
	jsonOut := fl.String("json", "", "write the per-run verdicts and times as JSON to this file")
	checks := fl.String("check", "", "run only these check IDs, comma-separated (default: every check)")
	only := fl.String("sample", "", "grade only these submissions, comma-separated: reference, or a fixture's file name (default: all)")
	box := fl.String("sandbox", "", "grade the fixtures through `netgrade batch` in this sandbox (process, netns or docker) instead of in this process; the reference is left out")
	image := fl.String("image", sandbox.LocalImage, "with -sandbox docker: the image")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if *runs < 2 || *jobs < 1 {
		fmt.Fprintln(stderr, "flake: -runs must be at least 2 and -jobs at least 1")
		return 2
	}
	os.Unsetenv("PYTHONUNBUFFERED") // as on a student's machine
	dir, err := os.MkdirTemp("", "netgrade-flake-")
	if err != nil {
		fmt.Fprintf(stderr, "flake: %v\n", err)
		return 3
	}
	defer os.RemoveAll(dir)
	list, gjobs, err := jobList(dir, split(*exercises), split(*only))
	if err != nil {
		fmt.Fprintf(stderr, "flake: %v\n", err)
		return 2
	}
	var sb *sandboxed
	switch *box {
	case "":
	case sandbox.Process, sandbox.Netns, sandbox.Docker:
		if len(*checks) > 0 {
			fmt.Fprintln(stderr, "flake: -check cannot be combined with -sandbox: a batch grades every check")
			return 2
		}
		sb, list, err = newSandboxed(dir, *box, *image, split(*exercises), list, stdout)
		if err != nil {
			fmt.Fprintf(stderr, "flake: %v\n", err)
			return 3
		}
	default:
		fmt.Fprintf(stderr, "flake: -sandbox %q: give process, netns or docker (or nothing: graded in this process, without netgrade batch)\n", *box)
		return 2
	}
	stopBurn, err := startBurners(*burners, *burnMax)
	if err != nil {
		fmt.Fprintf(stderr, "flake: starting the CPU burners: %v\n", err)
		return 3
	}
	defer stopBurn()
	where := "in this process"
	if sb != nil {
		where = "in the " + sb.kind + " sandbox"
	}
	fmt.Fprintf(stdout, "flake: %d submissions × %d runs %s, %d at a time, %d CPU burner(s) on %d core(s)\n",
		len(list), *runs, where, *jobs, *burners, runtime.NumCPU())
	opt := graders.Options{Ports: harness.NewPorts(uint64(time.Now().UnixNano())), Interpreters: pyenv.NewInterpreters()}
	opt.Course = graders.Settings{Only: split(*checks)}
	// Long runs report their progress some forty times.
	every := max(1, *runs/40)
	begin := time.Now()
	for r := range *runs {
		start := time.Now()
		if sb != nil {
			if err := sb.run(ctx, r, *jobs, list); err != nil && ctx.Err() == nil {
				fmt.Fprintf(stderr, "flake: run %d: %v\n", r+1, err)
				return 3
			}
		} else {
			gradeRun(ctx, list, gjobs, *jobs, opt)
		}
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "flake: interrupted")
			return 3
		}
		if (r+1)%every == 0 || r+1 == *runs {
			fmt.Fprintf(stdout, "run %2d/%d: %d gradings in %s, %d verdict change(s) so far; load %s\n",
				r+1, *runs, len(list), time.Since(start).Round(time.Second), len(changes(list)), load())
		}
	}
	chg := changes(list)
	mism := mismatches(list)
	fmt.Fprintf(stdout, "\n%d loaded runs in %s\n\ngrading time per submission (min / median / max):\n", *runs, time.Since(begin).Round(time.Second))
	for _, j := range list {
		fmt.Fprintf(stdout, "  %-40s %s\n", j.ID, spread(j.millis))
	}
	fmt.Fprintln(stdout)
	for _, c := range chg {
		fmt.Fprintf(stdout, "CHANGED  %s\n", c)
	}
	for _, m := range mism {
		fmt.Fprintf(stdout, "MISMATCH %s\n", m)
	}
	fmt.Fprintf(stdout, "verdict changes in %d loaded runs: %d\n", *runs, len(chg))
	fmt.Fprintf(stdout, "verdicts differing from the fixtures' declarations: %d\n", len(mism))
	if *jsonOut != "" {
		if err := writeJSON(*jsonOut, list); err != nil {
			fmt.Fprintf(stderr, "flake: %v\n", err)
			return 3
		}
	}
	if len(chg) > 0 || len(mism) > 0 {
		return 1
	}
	return 0
}

// split splits a comma-separated flag value; empty gives none.
func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// jobList lists the reference and fixtures of the exercises named in ids
// (only the submissions named in names, when any: "reference" or a
// fixture's file name), and their grading jobs, built once for every run:
// grading them stores each result in its job.
func jobList(dir string, ids, names []string) ([]*job, []*graders.Job, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	var exs []*graders.Exercise
	for _, id := range ids {
		ex, err := course.Registry().Get(strings.TrimSpace(id))
		if err != nil {
			return nil, nil, err
		}
		exs = append(exs, ex)
	}
	list, err := samples.List(dir, self, exs, nil)
	if err != nil {
		return nil, nil, err
	}
	if len(names) > 0 {
		list = slices.DeleteFunc(list, func(s *samples.Sample) bool { return !slices.Contains(names, s.Name()) })
		if len(list) == 0 {
			return nil, nil, fmt.Errorf("no submission of %s is named %s", strings.Join(ids, ", "), strings.Join(names, " or "))
		}
	}
	jobs := make([]*job, len(list))
	for i, s := range list {
		jobs[i] = &job{Sample: s}
	}
	return jobs, samples.Jobs(list), nil
}

// gradeRun grades every job once, n at a time (gjobs are the jobs of list),
// and records its verdicts.
func gradeRun(ctx context.Context, list []*job, gjobs []*graders.Job, n int, opt graders.Options) {
	graders.GradeAll(ctx, gjobs, n, opt)
	for _, j := range list {
		j.record(j.Result, "")
	}
}

// record adds one run's result to the job; problem, when set, says why
// the run counts as netgrade's error beyond its checks (a batch that could
// not grade the student).
func (j *job) record(res report.Result, problem string) {
	v := map[string]report.Status{}
	msg := map[string]string{}
	for _, c := range res.Checks {
		v[c.ID] = c.Status
		if c.Status != report.Pass {
			// netgrade's notes say what it saw and decided (a start grace
			// given or refused): what a changed verdict is explained by.
			var notes []string
			for _, e := range c.Transcript {
				if e.Kind == report.EvNote {
					notes = append(notes, e.Data)
				}
			}
			msg[c.ID] = fmt.Sprintf("%s (after %d ms)", c.Message, c.DurationMS)
			if len(notes) > 0 {
				msg[c.ID] += "; notes: " + strings.Join(notes, " | ")
			}
		}
	}
	errored := res.IDs(report.Error)
	if problem != "" {
		errored = append(errored, problem)
	}
	j.verdicts = append(j.verdicts, v)
	j.messages = append(j.messages, msg)
	j.millis = append(j.millis, res.DurationMS)
	j.failed = append(j.failed, res.IDs(report.Fail))
	j.errored = append(j.errored, errored)
}

// changes lists every check whose verdict in some run differs from its
// verdict in the first run.
func changes(list []*job) []string {
	var out []string
	for _, j := range list {
		if len(j.verdicts) < 2 {
			continue
		}
		first := j.verdicts[0]
		for r, v := range j.verdicts[1:] {
			for _, id := range checkIDs(first, v) {
				if v[id] != first[id] {
					why := j.messages[r+1][id]
					if why == "" {
						why = j.messages[0][id]
					}
					out = append(out, fmt.Sprintf("%s: %s was %s in run 1, %s in run %d: %s", j.ID, id, first[id], v[id], r+2, why))
				}
			}
		}
	}
	return out
}

// mismatches lists every run in which a submission's failing checks differ
// from its declaration, or a check ended in error.
func mismatches(list []*job) []string {
	var out []string
	for _, j := range list {
		for r, failed := range j.failed {
			for _, id := range j.errored[r] {
				out = append(out, fmt.Sprintf("%s: run %d: %s ended in a netgrade error", j.ID, r+1, id))
			}
			declared := ranOf(j.Fails, j.verdicts[r])
			if !slices.Equal(failed, declared) {
				var why []string
				for _, id := range failed {
					if !slices.Contains(declared, id) {
						why = append(why, id+": "+j.messages[r][id])
					}
				}
				out = append(out, fmt.Sprintf("%s: run %d: failed [%s], declared [%s]; %s", j.ID, r+1, strings.Join(failed, " "), strings.Join(declared, " "), strings.Join(why, "; ")))
			}
		}
	}
	return out
}

// ranOf returns the checks of declared that ran (have a verdict): with
// -check, a fixture is held to the part of its declaration that was graded.
func ranOf(declared []string, verdicts map[string]report.Status) []string {
	out := []string{}
	for _, id := range declared {
		if _, ok := verdicts[id]; ok {
			out = append(out, id)
		}
	}
	return out
}

func checkIDs(a, b map[string]report.Status) []string {
	seen := map[string]bool{}
	var ids []string
	for _, m := range []map[string]report.Status{a, b} {
		for id := range m {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	sort.Strings(ids)
	return ids
}

// load describes the machine's load: the load averages and, where the
// kernel has them, the share of the last 10 s and 60 s in which some task
// waited for a CPU.
func load() string {
	avg, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(avg))
	out := "avg " + strings.Join(f[:min(3, len(f))], " ")
	if psi, err := os.ReadFile("/proc/pressure/cpu"); err == nil {
		line, _, _ := strings.Cut(string(psi), "\n")
		p := strings.Fields(line)
		if len(p) >= 3 {
			out += ", cpu pressure " + strings.TrimPrefix(p[1], "avg10=") + "% (10 s) " + strings.TrimPrefix(p[2], "avg60=") + "% (60 s)"
		}
	}
	return out
}

// spread shows grading times as "min / median / max".
func spread(ms []int64) string {
	if len(ms) == 0 {
		return "-"
	}
	s := slices.Clone(ms)
	slices.Sort(s)
	f := func(v int64) string { return fmt.Sprintf("%.1f s", float64(v)/1000) }
	return fmt.Sprintf("%s / %s / %s", f(s[0]), f(s[len(s)/2]), f(s[len(s)-1]))
}

func writeJSON(path string, list []*job) error {
	type out struct {
		Name     string                     `json:"name"`
		Declared []string                   `json:"declared_failing"`
		Verdicts []map[string]report.Status `json:"verdicts"`
		Millis   []int64                    `json:"duration_ms"`
		Messages []map[string]string        `json:"messages"`
	}
	var all []out
	for _, j := range list {
		all = append(all, out{j.ID, j.Fails, j.verdicts, j.millis, j.messages})
	}
	b, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// startBurners starts n CPU burner processes that stop by themselves
// after most; the returned function kills them.
func startBurners(n int, most time.Duration) (func(), error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var cmds []*exec.Cmd
	stop := func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	}
	for range n {
		c := exec.Command(self, "burn", most.String())
		// Die with this program, whatever ends it.
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := c.Start(); err != nil {
			stop()
			return nil, err
		}
		cmds = append(cmds, c)
	}
	return stop, nil
}

// burn keeps one core busy until its deadline or until its parent is
// gone.
func burn(args []string) int {
	most := 90 * time.Minute
	if len(args) > 0 {
		d, err := time.ParseDuration(args[0])
		if err != nil {
			fmt.Fprintf(os.Stderr, "flake burn: %v\n", err)
			return 2
		}
		most = d
	}
	runtime.GOMAXPROCS(1)
	parent := os.Getppid()
	deadline := time.Now().Add(most)
	x := uint64(1)
	for i := uint64(0); ; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		if i%(1<<22) == 0 && (time.Now().After(deadline) || os.Getppid() != parent) {
			break
		}
	}
	if x == 0 { // keep the loop from being optimised away
		fmt.Println(x)
	}
	return 0
}
