package graders_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/reference"
)

// Python submissions are graded as on a student's machine, where
// PYTHONUNBUFFERED is not set (the harness drops it from the programs'
// environment too).
func init() { os.Unsetenv("PYTHONUNBUFFERED") }

// tcpFxRefMarker is the argument that makes the test binary run a reference
// implementation (see TestTCPRefProcess) instead of tests.
const tcpFxRefMarker = "netgrade-ref"

// tcpFxGradeJobs is how many submissions TestTCPFixtures grades at a time:
// the waiting exercise spends most of its time asleep, not on a core.
const tcpFxGradeJobs = 6

// TestTCPRefProcess is not a test: it is how the test binary runs a
// reference implementation as a program to grade, started as
// `TESTBINARY -test.run=^TestTCPRefProcess$ -- netgrade-ref EXERCISE ARGS...`
// (what `netgrade ref EXERCISE ARGS...` does, without building netgrade).
func TestTCPRefProcess(t *testing.T) {
	args := flag.Args()
	if len(args) < 2 || args[0] != tcpFxRefMarker {
		t.Skip("helper process: runs a reference implementation only when started by TestTCPFixtures")
	}
	prog, err := reference.Get(args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := prog.Run(ctx, args[2:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// tcpFxRefSubmission is the reference implementation of an exercise, run by
// this test binary.
func tcpFxRefSubmission(t *testing.T, exercise string) graders.Submission {
	self, err := os.Executable()
	require.NoError(t, err)
	return graders.Submission{
		Name:    "reference:" + exercise,
		Command: []string{self, "-test.run=^TestTCPRefProcess$", "--", tcpFxRefMarker, exercise},
	}
}

// tcpFxRequirePython skips (or fails, when NETGRADE_REQUIRE_PYTHON=1) without
// a python3 to run the fixtures.
func tcpFxRequirePython(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		if os.Getenv("NETGRADE_REQUIRE_PYTHON") == "1" {
			t.Fatalf("python3 is required (NETGRADE_REQUIRE_PYTHON=1) but not found: %v", err)
		}
		t.Skipf("SKIPPED: no python3 on PATH (%v): the TCP fixtures cannot be graded; install python3 or set NETGRADE_REQUIRE_PYTHON=1 to make this a failure", err)
	}
}

// tcpFxJob is one submission to grade and the checks it must fail.
type tcpFxJob struct {
	ex      *graders.Exercise
	name    string
	sub     graders.Submission
	expects []string
}

// TestTCPFixtures grades both ways the exercises tcp-server, tcp-client,
// tcp-upper and tcp-waiting: the reference and every passing fixture get
// full marks, every failing fixture fails exactly the checks it declares,
// no check ends in error, and every check fails on at least one fixture.
func TestTCPFixtures(t *testing.T) {
	tcpFxRequirePython(t)
	exercises := []*graders.Exercise{graders.TCPServer(), graders.TCPClient(), graders.TCPUpper(), graders.TCPWaiting()}
	dir := t.TempDir()
	var jobs []tcpFxJob
	for _, ex := range exercises {
		jobs = append(jobs, tcpFxJob{ex: ex, name: "reference", sub: tcpFxRefSubmission(t, ex.ID)})
		fs, err := fixtures.For(ex.ID)
		require.NoError(t, err)
		passing := 0
		for _, f := range fs {
			for _, id := range f.Fails {
				require.NotNil(t, ex.Check(id), "fixture %s declares an unknown check %s", f.ID(), id)
			}
			if f.Pass {
				passing++
			}
			exDir := dir + "/" + ex.ID
			require.NoError(t, os.MkdirAll(exDir, 0o755))
			path, err := f.Write(exDir)
			require.NoError(t, err)
			sub, err := graders.FileSubmission(path)
			require.NoError(t, err)
			sub.Name = "fixtures/" + f.ID()
			jobs = append(jobs, tcpFxJob{ex: ex, name: f.Name, sub: sub, expects: f.Fails})
		}
		require.GreaterOrEqual(t, passing, 4, "%s needs at least 4 passing fixtures in different styles", ex.ID)
	}

	opt := graders.Options{
		Interpreters: harness.NewInterpreters(),
		Ports:        harness.NewPorts(uint64(time.Now().UnixNano())),
	}
	var mu sync.Mutex
	failedOn := map[string][]string{} // check ID -> fixtures that failed it
	graded := 0                       // subtests run (-run may select a few)
	sem := make(chan struct{}, tcpFxGradeJobs)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t.Run(j.ex.ID+"/"+j.name, func(t *testing.T) {
				res := j.ex.Grade(context.Background(), j.sub, opt)
				var failed []string
				for _, c := range res.Checks {
					assert.NotEqual(t, report.Error, c.Status, "check %s: netgrade error: %s", c.ID, c.Message)
					if c.Status == report.Fail {
						failed = append(failed, c.ID)
					}
				}
				slices.Sort(failed)
				mu.Lock()
				graded++
				for _, id := range failed {
					failedOn[id] = append(failedOn[id], j.name)
				}
				mu.Unlock()
				if !assert.Equal(t, j.expects, failed, "checks failed by %s", j.sub.Name) {
					for _, c := range res.Checks {
						if c.Status != report.Pass {
							t.Logf("%s %s: %s\n  expected: %s\n  actual: %s", c.Status, c.ID, c.Message, c.Expected, c.Actual)
						}
					}
				}
				if len(j.expects) == 0 {
					assert.Equal(t, res.MaxScore, res.Score, "%s must get full marks", j.sub.Name)
				}
			})
		}()
	}
	wg.Wait()

	if graded < len(jobs) {
		t.Logf("%d of %d submissions graded (-run selects them): whether every check fails somewhere is not judged", graded, len(jobs))
		return
	}
	for _, ex := range exercises {
		for _, c := range ex.Checks {
			assert.NotEmpty(t, failedOn[c.ID], "check %s fails on no fixture: add one that shows it can fail", c.ID)
		}
	}
	if t.Failed() {
		var ids []string
		for id, fs := range failedOn {
			ids = append(ids, id+": "+strings.Join(fs, ", "))
		}
		slices.Sort(ids)
		t.Logf("failed checks by fixture:\n%s", strings.Join(ids, "\n"))
	}
}
