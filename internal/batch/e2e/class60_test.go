package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/batch/batchtest"
	"github.com/netgrade/netgrade/internal/cost"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// classSize is the size of the class of the long tests and the benchmark.
const classSize = 60

// long skips a test unless NETGRADE_LONG_TESTS=1 (CI sets it): the
// 60-student comparisons grade the class several times over.
func long(t *testing.T) {
	t.Helper()
	if os.Getenv("NETGRADE_LONG_TESTS") != "1" {
		t.Skip("SKIPPED: a 60-student class in three sandboxes takes minutes; set NETGRADE_LONG_TESTS=1 to run it")
	}
}

// TestClass60SandboxesAgree grades a class of 60 generated students with
// `-j 1 --sandbox process`, `-j 16 --sandbox netns` and `--sandbox docker`,
// and checks that every check of every student gets the same verdict in
// all three, and the verdict its fixture declares.
func TestClass60SandboxesAgree(t *testing.T) {
	long(t)
	subs, students := class(t, classSize)
	root := filepath.Dir(subs)
	runs := []struct {
		kind string
		jobs int
	}{
		{sandbox.Process, 1},
		{sandbox.Netns, 16},
		{sandbox.Docker, 8},
	}
	var base string
	for _, r := range runs {
		t.Run(fmt.Sprintf("%s-j%d", r.kind, r.jobs), func(t *testing.T) {
			extra := needSandbox(t, r.kind)
			out := filepath.Join(root, fmt.Sprintf("out-%s-%d", r.kind, r.jobs))
			begin := time.Now()
			res := netgrade(t, append([]string{"batch", subs, "-o", out, "-j", strconv.Itoa(r.jobs), "--sandbox", r.kind}, extra...)...)
			res.Assert(t, batchDone(students))
			t.Logf("%d students, --sandbox %s -j %d: %s", classSize, r.kind, r.jobs, time.Since(begin).Round(100*time.Millisecond))
			checkDeclared(t, out, students)
			recs, err := batch.ReadRecords(out)
			require.NoError(t, err)
			for _, rec := range recs {
				assert.Equal(t, r.kind, rec.Sandbox, rec.Student)
			}
			if base == "" {
				base = out
				return
			}
			want, got := verdicts(t, base), verdicts(t, out)
			require.Len(t, got, len(want))
			for id, checks := range want {
				assert.Equal(t, checks, got[id], "student %s: verdicts in %s equal those of %s", id, out, base)
			}
		})
	}
}

// atATime and sandboxUsed read netgrade batch's first lines.
var (
	atATime     = regexp.MustCompile(`(\d+) at a time`)
	sandboxUsed = regexp.MustCompile(`sandbox \w+`)
)

// BenchmarkClass60 grades a class of 60 generated students in the default
// sandbox at -j 1 and at the default -j, and prints both times with their
// ratio to the sum of single gradings (each student's grading time at
// -j 1, when it ran alone); for the default -j also students per minute,
// and the total CPU of the run (netgrade, its unit runners and the graded
// programs, from the kernel's accounting) against the CPU floor: the
// program starts the gradings made times the measured CPU of one start.
// Run it with `make bench`.
func BenchmarkClass60(b *testing.B) {
	startCPU := pythonStartCPU(b)
	for range b.N {
		root := b.TempDir()
		subs := filepath.Join(root, "submissions")
		students, err := batchtest.Generate(subs, classSize, classExercises(b))
		require.NoError(b, err)
		// -j 1, any -j values NETGRADE_BENCH_JOBS lists (e.g. 2,4,8,16),
		// then the default.
		jobs := []string{"1"}
		if j := os.Getenv("NETGRADE_BENCH_JOBS"); j != "" {
			jobs = append(jobs, strings.Split(j, ",")...)
		}
		jobs = append(jobs, "")
		var single time.Duration
		var usage []cost.Usage
		var used []string
		var firstStderr string
		starts := 0
		for i, j := range jobs {
			out := filepath.Join(root, fmt.Sprintf("out-%d", i))
			args := []string{"batch", subs, "-o", out, "--exercise", strings.Join(classIDs, ",")}
			if j != "" {
				args = append(args, "-j", j)
			}
			cmd := exec.Command(netgradeBin, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			u, err := cost.Run(cmd)
			var exit *exec.ExitError
			if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == batchDone(students).ExitCode) {
				b.Fatalf("netgrade %v: %v\n%s", args, err, stderr.String())
			}
			usage = append(usage, u)
			m := atATime.FindStringSubmatch(stderr.String())
			require.NotNil(b, m, "netgrade says how many students it grades at a time")
			used = append(used, m[1])
			recs, err := batch.ReadRecords(out)
			require.NoError(b, err)
			if i == 0 {
				firstStderr = stderr.String()
				for _, r := range recs {
					single += time.Duration(r.DurationMS) * time.Millisecond
				}
			}
			if j == "" {
				starts = programStarts(recs)
			}
		}
		cores := runtime.NumCPU()
		fmt.Printf("\n%d students, %s, %d cores\n", classSize, sandboxUsed.FindString(firstStderr), cores)
		fmt.Printf("  sum of single gradings: %7.1f s\n", single.Seconds())
		for i, j := range jobs {
			label := "-j " + used[i]
			if j == "" {
				label += " (default)"
			}
			fmt.Printf("  %-16s %7.1f s   ratio to the sum of single gradings: %.2f   speed-up over -j 1: %.2fx\n",
				label, usage[i].Wall.Seconds(), usage[i].Wall.Seconds()/single.Seconds(), usage[0].Wall.Seconds()/usage[i].Wall.Seconds())
		}
		last := usage[len(usage)-1]
		total := last.Own + last.Programs
		floor := time.Duration(starts) * startCPU
		perMin := float64(classSize) / last.Wall.Minutes()
		fmt.Printf("  default -j: %.1f students per minute; total CPU %.1f s (netgrade batch %.1f s, unit runners and programs %.1f s)\n",
			perMin, total.Seconds(), last.Own.Seconds(), last.Programs.Seconds())
		fmt.Printf("  CPU floor: %d program starts x %.0f ms = %.1f s (%.1f s of wall on %d cores); total CPU / floor: %.2f; wall / (floor / cores): %.2f\n",
			starts, float64(startCPU.Microseconds())/1000, floor.Seconds(), floor.Seconds()/float64(cores), cores,
			total.Seconds()/floor.Seconds(), last.Wall.Seconds()/(floor.Seconds()/float64(cores)))
		b.ReportMetric(single.Seconds(), "single-sum-s")
		b.ReportMetric(usage[0].Wall.Seconds(), "j1-s")
		b.ReportMetric(last.Wall.Seconds(), "jdefault-s")
		b.ReportMetric(last.Wall.Seconds()/single.Seconds(), "jdefault/single")
		b.ReportMetric(perMin, "students/min")
		b.ReportMetric(total.Seconds(), "cpu-s")
		b.ReportMetric(total.Seconds()/floor.Seconds(), "cpu/floor")
	}
}

// programStarts counts the programs the gradings of recs started.
func programStarts(recs []*batch.Record) int {
	n := 0
	for _, r := range recs {
		for _, res := range r.Results {
			for _, c := range res.Checks {
				for _, e := range c.Transcript {
					if e.Kind == report.EvStart {
						n++
					}
				}
			}
		}
	}
	return n
}

// pythonStartCPU measures the CPU of one start of the Python interpreter
// that imports what the exercises use and exits.
func pythonStartCPU(b *testing.B) time.Duration {
	py, err := pyenv.NewInterpreters().Resolve(context.Background(), "python3")
	require.NoError(b, err)
	const n = 10
	m := cost.Start()
	for range n {
		out, err := exec.Command(py, "-c", "import socket, socketserver, logging").CombinedOutput()
		require.NoError(b, err, "%s", out)
	}
	return m.Stop().Programs / n
}
