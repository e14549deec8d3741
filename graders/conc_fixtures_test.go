package graders

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// concExercises are the exercises of this file's fixture test.
var concExercises = []string{"tcp-forking", "tcp-threading", "tcp-tickets"}

// concGradings is how many submissions the fixture test grades at once.
// Most of a grading is spent waiting for mandated delays, and grading
// several at once is part of what the verdicts must withstand.
const concGradings = 4

// concJob is one submission of the fixture test with its declared verdict.
type concJob struct {
	ex    *Exercise
	name  string
	sub   Submission
	fails []string // declared failing checks; empty: full marks
	res   report.Result
}

// concNeedPython skips (or, when NETGRADE_REQUIRE_PYTHON=1, fails) a test
// that runs Python submissions on a machine without python3.
func concNeedPython(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		if os.Getenv("NETGRADE_REQUIRE_PYTHON") == "1" {
			t.Fatalf("python3 is required (NETGRADE_REQUIRE_PYTHON=1) but not found: %v", err)
		}
		t.Skipf("SKIPPED: python3 not found on PATH (%v): the Python fixtures cannot be graded", err)
	}
}

// concJobs lists the reference and every fixture of the exercises, each
// fixture written into a folder of its own (some keep a counter file next
// to themselves).
func concJobs(t *testing.T, ids []string) []*concJob {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	reg := Default()
	dir := t.TempDir()
	var jobs []*concJob
	for _, id := range ids {
		ex, err := reg.Get(id)
		require.NoError(t, err)
		jobs = append(jobs, &concJob{ex: ex, name: id + "/reference",
			sub: Submission{Name: "reference:" + id, Command: []string{self, "ref", id}}})
		fs, err := fixtures.For(id)
		require.NoError(t, err)
		require.NotEmpty(t, fs, "no fixtures for %s", id)
		for _, f := range fs {
			fdir := filepath.Join(dir, id, strings.TrimSuffix(f.Name, ".py"))
			require.NoError(t, os.MkdirAll(fdir, 0o755))
			path, err := f.Write(fdir)
			require.NoError(t, err)
			sub, err := FileSubmission(path)
			require.NoError(t, err)
			sub.Name = "fixtures/" + f.ID()
			jobs = append(jobs, &concJob{ex: ex, name: f.ID(), sub: sub, fails: f.Fails})
		}
	}
	return jobs
}

// concGradeAll grades the jobs, n at a time, sharing ports and the
// resolved interpreter as one grading run does.
func concGradeAll(ctx context.Context, jobs []*concJob, n int) {
	opt := Options{Ports: harness.NewPorts(uint64(time.Now().UnixNano())), Interpreters: harness.NewInterpreters()}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			j.res = j.ex.Grade(ctx, j.sub, opt)
		}()
	}
	wg.Wait()
}

// concFailed returns the IDs of the checks a result failed, sorted.
func concFailed(r report.Result) []string {
	ids := []string{}
	for _, c := range r.Checks {
		if c.Status == report.Fail {
			ids = append(ids, c.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

// concMessages says, for failing fixtures, what the failure of a check
// must say: the verdict names the student's mistake.
var concMessages = map[string]map[string]string{
	"tcp-forking/threading_server.py":      {"tcp-forking/process-per-client": "in threads, not in processes"},
	"tcp-forking/sequential_server.py":     {"tcp-forking/concurrent": "one client at a time", "tcp-forking/process-per-client": "neither a process nor a thread"},
	"tcp-forking/echo_unchanged.py":        {"tcp-forking/answers": "unchanged"},
	"tcp-forking/input_port.py":            {"tcp-forking/starts": "ended before it could listen"},
	"tcp-threading/forking_server.py":      {"tcp-threading/one-process": "forks a process per client"},
	"tcp-threading/sequential_server.py":   {"tcp-threading/concurrent": "one client at a time", "tcp-threading/one-process": "did not grow"},
	"tcp-threading/asyncio_server.py":      {"tcp-threading/one-process": "did not grow"},
	"tcp-threading/bytes_repr.py":          {"tcp-threading/answers": "bytes object"},
	"tcp-tickets/local_counter.py":         {"tcp-tickets/consecutive": "local variable of handle()"},
	"tcp-tickets/forked_counter.py":        {"tcp-tickets/consecutive": "each child increments its own copy"},
	"tcp-tickets/lock_in_handle.py":        {"tcp-tickets/unique": "same ticket number"},
	"tcp-tickets/file_read_before_lock.py": {"tcp-tickets/unique": "same ticket number"},
	"tcp-tickets/lock_across_sleep.py":     {"tcp-tickets/at-once": "served one after the other"},
	"tcp-tickets/missing_fstring.py":       {"tcp-tickets/ticket": "not an f-string"},
	"tcp-tickets/input_port.py":            {"tcp-tickets/starts": "ended before it could listen"},
}

// TestConcFixtures grades the reference and every fixture of the
// concurrent exercises: the reference and the passing fixtures get full
// marks, each failing fixture fails exactly the checks it declares (and
// says why in the words of its mistake), netgrade never errs, and every
// check fails on at least one fixture.
func TestConcFixtures(t *testing.T) {
	concNeedPython(t)
	jobs := concJobs(t, concExercises)
	concGradeAll(t.Context(), jobs, concGradings)

	failedSomewhere := map[string]bool{}
	passing := map[string]int{}
	for _, j := range jobs {
		t.Run(j.name, func(t *testing.T) {
			got := concFailed(j.res)
			want := append([]string{}, j.fails...)
			for _, c := range j.res.Checks {
				assert.NotEqual(t, report.Error, c.Status, "%s: netgrade error: %s", c.ID, c.Message)
				if c.Status == report.Fail {
					failedSomewhere[c.ID] = true
				}
			}
			if !assert.Equal(t, want, got, "failing checks of %s", j.name) {
				for _, c := range j.res.Checks {
					if c.Status != report.Pass {
						t.Logf("%s: %s: %s (expected %q, got %q)", c.ID, c.Status, c.Message, c.Expected, c.Actual)
					}
				}
			}
			if len(want) == 0 {
				assert.Equal(t, j.res.MaxScore, j.res.Score, "a passing submission gets full marks")
				if !strings.HasSuffix(j.name, "/reference") {
					passing[j.ex.ID]++
				}
			}
			for id, phrase := range concMessages[j.name] {
				i := slices.IndexFunc(j.res.Checks, func(c report.Check) bool { return c.ID == id })
				if assert.GreaterOrEqual(t, i, 0, "no check %s", id) {
					assert.Contains(t, j.res.Checks[i].Message, phrase, "the failure of %s names the mistake", id)
				}
			}
		})
	}
	for _, id := range concExercises {
		ex, err := Default().Get(id)
		require.NoError(t, err)
		for _, c := range ex.Checks {
			assert.True(t, failedSomewhere[c.ID], "check %s fails on no fixture: it is not proven to catch anything", c.ID)
		}
		assert.GreaterOrEqual(t, passing[id], 4, "%s needs at least 4 passing fixtures", id)
	}
	for name := range concMessages {
		assert.True(t, slices.ContainsFunc(jobs, func(j *concJob) bool { return j.name == name }), "concMessages names %s, which is no fixture", name)
	}
}
