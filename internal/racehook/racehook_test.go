package racehook

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gotest.tools/v3/golden"
)

func TestEnv(t *testing.T) {
	h := &Hook{dir: "/hook", cfg: Config{FileDelay: 20 * time.Millisecond, StoreDelay: 1500 * time.Microsecond}}
	tail := []string{
		"NETGRADE_RACE_HOOK=1",
		"NETGRADE_RACE_FILE_DELAY_MS=20",
		"NETGRADE_RACE_STORE_DELAY_MS=1.5",
		"NETGRADE_RACE_MARKS=/hook/marks",
	}
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{"empty", nil, append([]string{"PYTHONPATH=/hook"}, tail...)},
		{"other variables kept", []string{"A=1", "B=x=y"}, append([]string{"A=1", "B=x=y", "PYTHONPATH=/hook"}, tail...)},
		{"PYTHONPATH prepended", []string{"PYTHONPATH=/lib:/more", "A=1"}, append([]string{"A=1", "PYTHONPATH=/hook:/lib:/more"}, tail...)},
		{"empty PYTHONPATH", []string{"PYTHONPATH="}, append([]string{"PYTHONPATH=/hook"}, tail...)},
		{"stale settings replaced", []string{"NETGRADE_RACE_HOOK=0", "NETGRADE_RACE_MARKS=/elsewhere"}, append([]string{"PYTHONPATH=/hook"}, tail...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, h.Env(tt.env))
		})
	}
}

func TestInstall(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hook")
	h, err := Install(dir, DefaultConfig())
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(dir, ScriptName))
	require.NoError(t, err)
	assert.Equal(t, script, got)
	loads, err := h.Loaded()
	require.NoError(t, err)
	assert.Empty(t, loads)
	assert.Contains(t, h.Describe(), "was not loaded")

	_, err = Install(t.TempDir(), Config{FileDelay: -time.Millisecond})
	assert.ErrorContains(t, err, "negative delay")
}

// python returns the interpreter the tests run, resolved past a pyenv shim
// once; it skips the test, or fails it when NETGRADE_REQUIRE_PYTHON=1,
// without one.
var python = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
	return strings.TrimSpace(string(out)), err
})

func needPython(t *testing.T) string {
	t.Helper()
	p, err := python()
	if err != nil || p == "" {
		if os.Getenv("NETGRADE_REQUIRE_PYTHON") == "1" {
			t.Fatalf("python3 is required (NETGRADE_REQUIRE_PYTHON=1) but could not be run: %v", err)
		}
		t.Skipf("SKIPPED: python3 could not be run (%v): the race hook cannot be tried", err)
	}
	return p
}

// runPython runs a Python program with extra env on top of this process's
// environment, without PYTHONUNBUFFERED (a student's machine does not set
// it) or PYTHONPATH, and returns its stdout.
func runPython(t *testing.T, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, needPython(t), args...)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k != "PYTHONUNBUFFERED" && k != "PYTHONPATH" && !strings.HasPrefix(k, "NETGRADE_RACE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "python3 %s: %s", strings.Join(args, " "), stderr.String())
	return string(out)
}

// The counters of testdata/counter.py: twenty processes or threads add one
// each to a shared counter at once, twenty times. With the hook, every
// unlocked or badly locked read-modify-write loses increments in every one
// of the twenty trials; a correctly locked one never does, with or without
// it. Without the hook, how many trials lose is luck: logged, not judged.
func TestCounters(t *testing.T) {
	needPython(t)
	const trials, batch, workers = 20, 10, 20
	tests := []struct {
		kind string
		racy bool
	}{
		{"file-read-then-flock", true},
		{"file-no-lock", true},
		{"threads-sleep0", true},
		{"threads-plus-equals", true},
		{"threads-lock-inside", true},
		{"threads-three-statements", true},
		{"file-flock", false},
		{"file-lockf", false},
		{"threads-lock", false},
	}
	for _, tt := range tests {
		for _, hooked := range []bool{true, false} {
			name := tt.kind + "/without hook"
			if hooked {
				name = tt.kind + "/with hook"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				var env []string
				if hooked {
					h, err := Install(t.TempDir(), DefaultConfig())
					require.NoError(t, err)
					env = h.Env(nil)
					defer func() {
						loads, err := h.Loaded()
						require.NoError(t, err)
						require.Len(t, loads, 1, "the program's process loads the hook; its forked workers inherit it")
						assert.Equal(t, []string{"switchinterval", "files", "locks", "stores"}, loads[0].Parts)
					}()
				}
				out := runPython(t, env, filepath.Join("testdata", "counter.py"), tt.kind,
					strconv.Itoa(trials), strconv.Itoa(batch), strconv.Itoa(workers), t.TempDir())
				var finals []int
				require.NoError(t, json.Unmarshal([]byte(out), &finals), "output: %q", out)
				require.Len(t, finals, trials)
				lost := 0
				for _, f := range finals {
					if f < workers {
						lost++
					}
				}
				t.Logf("%d of %d trials lost increments: %v", lost, trials, finals)
				switch {
				case !tt.racy:
					assert.Zero(t, lost, "a correctly locked counter never loses an increment")
				case hooked:
					assert.Equal(t, trials, lost, "with the hook, every trial of a racy counter loses increments")
				}
			})
		}
	}
}

// A correct program prints the same with the hook as without: the hook
// only delays. testdata/unchanged.py uses files in many ways (modes,
// iteration, json, pathlib, os-level reads and writes, locks) and threads
// under a lock.
func TestCorrectProgramUnchanged(t *testing.T) {
	needPython(t)
	prog := filepath.Join("testdata", "unchanged.py")

	plain := runPython(t, nil, prog, t.TempDir())
	golden.Assert(t, plain, "unchanged.golden", "without the hook")

	h, err := Install(t.TempDir(), DefaultConfig())
	require.NoError(t, err)
	hooked := runPython(t, h.Env(nil), prog, t.TempDir())
	assert.Equal(t, plain, hooked, "with the hook")
	loads, err := h.Loaded()
	require.NoError(t, err)
	require.Len(t, loads, 1)
	assert.Contains(t, h.Describe(), "was active (switchinterval, files, locks, stores; file delay 20ms, store delay 20ms) in 1 process")
}

// The delays are bounded: a file read line by line and written back in
// chunks costs a delay per switch between reading and writing, not one per
// line, and a function that fills a dict in a loop one per store
// instruction and call, not one per item. Unbounded, each part below would
// take 500 delays (10 s).
func TestDelaysBounded(t *testing.T) {
	needPython(t)
	h, err := Install(t.TempDir(), DefaultConfig())
	require.NoError(t, err)
	out := runPython(t, h.Env(nil), filepath.Join("testdata", "bounded.py"), "500", t.TempDir())
	var took struct{ Files, Stores float64 }
	require.NoError(t, json.Unmarshal([]byte(out), &took), "output: %q", out)
	// Files: a read, then a write (two opens of regular files): 2 delays,
	// and the first write of the preparation. Stores: one per thread.
	assert.Less(t, took.Files, 2.0, "reading 500 lines and writing them back")
	assert.GreaterOrEqual(t, took.Files, 2*DefaultFileDelay.Seconds(), "the read and the write are delayed")
	assert.Less(t, took.Stores, 2.0, "two threads storing 500 items each")
	assert.GreaterOrEqual(t, took.Stores, DefaultStoreDelay.Seconds(), "a store is delayed while the other thread runs")
	loads, err := h.Loaded()
	require.NoError(t, err)
	require.Len(t, loads, 1)
}

// Another sitecustomize on the path (a distribution's, a virtual
// environment's) is still imported, with the hook on or off.
func TestChainsSitecustomize(t *testing.T) {
	needPython(t)
	other := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(other, "sitecustomize.py"),
		[]byte("import builtins\nbuiltins.CHAINED = __file__\n"), 0o644))
	prog := "import sys, builtins; print(getattr(builtins, 'CHAINED', 'not chained'), sys.getswitchinterval())"
	h, err := Install(t.TempDir(), DefaultConfig())
	require.NoError(t, err)
	chained := filepath.Join(other, "sitecustomize.py")
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"hook on", h.Env([]string{"PYTHONPATH=" + other}), chained + " 1e-06\n"},
		{"hook off", []string{"PYTHONPATH=" + h.Dir() + ":" + other}, chained + " 0.005\n"},
		{"nothing to chain", h.Env(nil), "not chained 1e-06\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, runPython(t, tt.env, "-c", prog))
		})
	}
}

// notices is a check that records its notes.
type notices struct {
	hook  bool
	notes []string
}

func (n *notices) RaceHook() bool { return n.hook }
func (n *notices) Notice(format string, args ...any) {
	n.notes = append(n.notes, fmt.Sprintf(format, args...))
}

// TestForCheck: a check's hook is installed in a directory of its own,
// its environment loads it, and the check's report says whether it was
// active; with the course's hook off, nothing is installed and the report
// says so.
func TestForCheck(t *testing.T) {
	c := &notices{hook: true}
	env, done, err := ForCheck(c)
	require.NoError(t, err)
	var dir string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PYTHONPATH="); ok {
			dir = v
		}
	}
	require.FileExists(t, filepath.Join(dir, ScriptName))
	done()
	assert.NoDirExists(t, dir, "the hook is removed when the check is done")
	require.Len(t, c.notes, 1)
	assert.Contains(t, c.notes[0], "race hook was not loaded", "no program ran under it")

	off := &notices{}
	env, done, err = ForCheck(off)
	require.NoError(t, err)
	done()
	assert.Empty(t, env)
	require.Len(t, off.notes, 1)
	assert.Contains(t, off.notes[0], "race hook is off")
}
