package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/batch/batchtest"
	"github.com/netgrade/netgrade/internal/clitest"
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
// -j 1, when it ran alone). Run it with `make bench`.
func BenchmarkClass60(b *testing.B) {
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
		var wall []time.Duration
		var used []string
		var firstStderr string
		for i, j := range jobs {
			out := filepath.Join(root, fmt.Sprintf("out-%d", i))
			args := []string{"batch", subs, "-o", out, "--exercise", strings.Join(classIDs, ",")}
			if j != "" {
				args = append(args, "-j", j)
			}
			begin := time.Now()
			res := clitest.RunTimeout(30*time.Minute, netgradeBin, args...)
			d := time.Since(begin)
			if res.ExitCode != batchDone(students).ExitCode {
				b.Fatalf("netgrade %v: exit %d\n%s", args, res.ExitCode, res.Combined())
			}
			wall = append(wall, d)
			m := atATime.FindStringSubmatch(res.Stderr())
			require.NotNil(b, m, "netgrade says how many students it grades at a time")
			used = append(used, m[1])
			if i == 0 {
				firstStderr = res.Stderr()
				recs, err := batch.ReadRecords(out)
				require.NoError(b, err)
				for _, r := range recs {
					single += time.Duration(r.DurationMS) * time.Millisecond
				}
			}
		}
		fmt.Printf("\n%d students, %s, %d cores\n", classSize, sandboxUsed.FindString(firstStderr), runtime.NumCPU())
		fmt.Printf("  sum of single gradings: %7.1f s\n", single.Seconds())
		for i, j := range jobs {
			label := "-j " + used[i]
			if j == "" {
				label += " (default)"
			}
			fmt.Printf("  %-16s %7.1f s   ratio to the sum of single gradings: %.2f   speed-up over -j 1: %.2fx\n",
				label, wall[i].Seconds(), wall[i].Seconds()/single.Seconds(), wall[0].Seconds()/wall[i].Seconds())
		}
		b.ReportMetric(single.Seconds(), "single-sum-s")
		b.ReportMetric(wall[0].Seconds(), "j1-s")
		last := wall[len(wall)-1]
		b.ReportMetric(last.Seconds(), "jdefault-s")
		b.ReportMetric(last.Seconds()/single.Seconds(), "jdefault/single")
	}
}
