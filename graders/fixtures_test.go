package graders_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// netgradeBin is the netgrade binary built for the tests: the reference
// implementations run as `netgrade ref EXERCISE ...`, as in real use.
var netgradeBin string

// shared grading options: python3 is resolved once for the whole run.
var (
	sharedOnce sync.Once
	sharedOpt  graders.Options
)

func options() graders.Options {
	sharedOnce.Do(func() {
		sharedOpt = graders.Options{Interpreters: harness.NewInterpreters(), Ports: harness.NewPorts(uint64(os.Getpid()))}
	})
	return sharedOpt
}

func TestMain(m *testing.M) {
	// A student's machine does not set PYTHONUNBUFFERED; neither do we.
	os.Unsetenv("PYTHONUNBUFFERED")
	dir, err := os.MkdirTemp("", "netgrade-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	netgradeBin = filepath.Join(dir, "netgrade")
	build := exec.Command("go", "build", "-o", netgradeBin, "github.com/netgrade/netgrade/cmd/netgrade")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building netgrade for the tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// failed returns the sorted IDs of the checks with status s.
func withStatus(r report.Result, s report.Status) []string {
	var ids []string
	for _, c := range r.Checks {
		if c.Status == s {
			ids = append(ids, c.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

// explain renders a result's non-passing checks for a test failure message.
func explain(r report.Result) string {
	var b strings.Builder
	for _, c := range r.Checks {
		if c.Status != report.Pass {
			fmt.Fprintf(&b, "  %s %s: %s\n    expected: %s\n    actual:   %s\n    exit: %s %s\n", c.Status, c.ID, c.Message, c.Expected, c.Actual, c.Exit, c.Traceback)
		}
	}
	return b.String()
}

// TestReferences grades every reference implementation: full marks.
func TestReferences(t *testing.T) {
	for _, ex := range graders.Default().Exercises() {
		t.Run(ex.ID, func(t *testing.T) {
			t.Parallel()
			sub := graders.Submission{Name: "reference:" + ex.ID, Command: []string{netgradeBin, "ref", ex.ID}}
			res := ex.Grade(context.Background(), sub, options())
			assert.Empty(t, withStatus(res, report.Fail), explain(res))
			assert.Empty(t, withStatus(res, report.Error), explain(res))
			assert.Empty(t, withStatus(res, report.Skip), explain(res))
			assert.Equal(t, res.MaxScore, res.Score)
			assert.Positive(t, res.MaxScore)
		})
	}
}

// gradedElsewhere are the exercises whose fixtures TestConcFixtures grades
// (it also checks the words of their failures): not graded twice.
var gradedElsewhere = map[string]bool{"tcp-forking": true, "tcp-threading": true, "tcp-tickets": true}

// TestFixtures grades every sample submission and asserts that it fails
// exactly the checks it declares, that netgrade never errs on it, and that
// every check of every exercise fails on at least one fixture: a grader
// that passes everything is as broken as one that fails everything.
func TestFixtures(t *testing.T) {
	all, err := fixtures.All()
	require.NoError(t, err)
	reg := graders.Default()
	dir := t.TempDir()
	var mu sync.Mutex
	failedSomewhere := map[string]bool{}
	t.Run("each", func(t *testing.T) {
		for _, f := range all {
			if gradedElsewhere[f.Exercise] {
				continue
			}
			ex, err := reg.Get(f.Exercise)
			require.NoError(t, err, "fixture folder %s names no exercise", f.Exercise)
			for _, id := range f.Fails {
				require.NotNil(t, ex.Check(id), "fixture %s declares unknown check %s", f.ID(), id)
			}
			t.Run(f.ID(), func(t *testing.T) {
				t.Parallel()
				exDir := filepath.Join(dir, f.Exercise)
				require.NoError(t, os.MkdirAll(exDir, 0o755))
				path, err := f.Write(exDir)
				require.NoError(t, err)
				sub, err := graders.FileSubmission(path)
				require.NoError(t, err)
				res := ex.Grade(context.Background(), sub, options())
				got := withStatus(res, report.Fail)
				assert.Equal(t, f.Fails, got, "fixture %s (%s)\n%s", f.ID(), f.About, explain(res))
				assert.Empty(t, withStatus(res, report.Error), explain(res))
				if f.Pass {
					assert.Equal(t, res.MaxScore, res.Score, explain(res))
				}
				for _, c := range res.Checks {
					if c.Status == report.Fail {
						assert.NotEmpty(t, c.Message, "%s: a failure must say what is wrong", c.ID)
						assert.NotEmpty(t, c.Hint, "%s: a failure must give a hint", c.ID)
					}
				}
				mu.Lock()
				for _, id := range got {
					failedSomewhere[id] = true
				}
				mu.Unlock()
			})
		}
	})
	for _, ex := range reg.Exercises() {
		if gradedElsewhere[ex.ID] {
			continue
		}
		var passing int
		for _, f := range all {
			if f.Exercise == ex.ID && f.Pass {
				passing++
			}
		}
		assert.GreaterOrEqual(t, passing, 4, "%s needs at least 4 passing fixtures", ex.ID)
		for _, c := range ex.Checks {
			assert.True(t, failedSomewhere[c.ID], "no fixture fails %s: the check is not proven to fail", c.ID)
		}
	}
}

// TestNoProcessLeft grades a server fixture and then looks in /proc for
// any process still running the fixture's file.
func TestNoProcessLeft(t *testing.T) {
	fs, err := fixtures.For("udp-server")
	require.NoError(t, err)
	i := slices.IndexFunc(fs, func(f fixtures.Fixture) bool { return f.Name == "plain.py" })
	require.GreaterOrEqual(t, i, 0)
	path, err := fs[i].Write(t.TempDir())
	require.NoError(t, err)
	sub, err := graders.FileSubmission(path)
	require.NoError(t, err)
	ex, err := graders.Default().Get("udp-server")
	require.NoError(t, err)
	res := ex.Grade(context.Background(), sub, options())
	require.True(t, res.Passed(), explain(res))
	assert.Empty(t, processesRunning(t, path), "processes of the submission are left after grading")
}

// processesRunning lists the PIDs whose command line mentions path.
func processesRunning(t *testing.T, path string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var pids []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if strings.Contains(string(cmdline), path) {
			stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
			if !strings.Contains(string(stat), ") Z ") {
				pids = append(pids, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
			}
		}
	}
	return pids
}
