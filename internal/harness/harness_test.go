package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/observe"
	"github.com/netgrade/netgrade/internal/poll"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	// As on a student's machine: Python block-buffers a pipe.
	os.Unsetenv("PYTHONUNBUFFERED")
	os.Exit(m.Run())
}

// interp is the runtime the tests start programs with: python3 as found
// on PATH (pyenv resolves shims; it imports harness, so its tests start
// Python through it), and a MemoryError as the last line of stderr.
var interp Runtime = pythonRuntime{}

// pythonRuntime is a Runtime that knows Python's MemoryError and resolves
// nothing.
type pythonRuntime struct{}

func (pythonRuntime) Executable(_ context.Context, argv0 string) (string, error) {
	if argv0 == "python3.99" {
		return "", errors.New("no Python interpreter \"python3.99\" on PATH")
	}
	return argv0, nil
}

func (pythonRuntime) OutOfMemory(stderr []Line) bool {
	return len(stderr) > 0 && stderr[len(stderr)-1].Text == "MemoryError"
}

func start(t *testing.T, spec Spec) *Process {
	t.Helper()
	p, err := Start(context.Background(), spec, interp)
	require.NoError(t, err)
	t.Cleanup(func() { p.Stop() })
	return p
}

func waitText(t *testing.T, p *Process, text string, d time.Duration) (Line, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	l, _, err := p.Output().Wait(ctx, 0, func(l Line) bool { return l.Text == text })
	return l, err
}

// A Python print() without flush reaches netgrade as soon as it is printed
// when stdout is a terminal; on a pipe it stays in Python's buffer until
// the program stops. This is why the harness gives stdout a pseudo-terminal.
func TestPythonLinesSeenAsPrinted(t *testing.T) {
	script := `import time
print("ready")
time.sleep(60)
`
	t.Run("pseudo-terminal", func(t *testing.T) {
		p := start(t, Spec{Argv: []string{"python3", "-c", script}})
		l, err := waitText(t, p, "ready", 10*time.Second)
		require.NoError(t, err)
		assert.Equal(t, Stdout, l.Stream)
		assert.True(t, p.Running(), "the line must be seen while the program runs")
	})
	t.Run("pipe keeps it buffered until SIGINT", func(t *testing.T) {
		// stderr is line-buffered: "printed" shows that print("ready") has
		// run, however long the interpreter took to start on a busy
		// machine, before the SIGINT.
		buffered := `import sys, time
print("ready")
print("printed", file=sys.stderr)
time.sleep(60)
`
		p := start(t, Spec{Argv: []string{"python3", "-c", buffered}, NoPTY: true})
		_, err := waitText(t, p, "printed", 30*time.Second)
		require.NoError(t, err)
		// The negative window: long enough for a print to travel a pipe.
		_, err = waitText(t, p, "ready", 500*time.Millisecond)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		ex := p.Stop()
		assert.Equal(t, "SIGINT", ex.StoppedBy)
		_, err = waitText(t, p, "ready", 5*time.Second)
		assert.NoError(t, err, "SIGINT makes Python flush its buffer")
	})
}

func TestStdinIsClosed(t *testing.T) {
	p := start(t, Spec{Argv: []string{"python3", "-c", "input('Port: ')"}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, p.WaitOutput(ctx))
	ex := p.Exit()
	assert.Equal(t, 1, ex.Code)
	var stderr []string
	for _, l := range p.Output().Lines() {
		if l.Stream == Stderr {
			stderr = append(stderr, l.Text)
		}
	}
	require.NotEmpty(t, stderr)
	assert.Equal(t, "EOFError: EOF when reading a line", stderr[len(stderr)-1])
}

func TestEnvironmentIsAStudentsMachine(t *testing.T) {
	t.Setenv("PYTHONUNBUFFERED", "1")
	p := start(t, Spec{Argv: []string{"python3", "-c", "import os, sys; print(os.environ.get('PYTHONUNBUFFERED', 'unset'), sys.stdout.isatty(), sys.stdout.encoding)"}})
	_, err := waitText(t, p, "unset True utf-8", 10*time.Second)
	assert.NoError(t, err, "printed: %v", p.Output().Lines())
}

// Stop ends the whole tree: children, a child that ignores SIGINT and
// SIGTERM, and one that left the process group.
func TestStopEndsEveryProcess(t *testing.T) {
	script := `
trap '' INT TERM
sleep 300 &
(trap '' INT TERM; sleep 301) &
setsid sleep 302 &
echo started
wait
`
	p := start(t, Spec{Argv: []string{"sh", "-c", script}})
	_, err := waitText(t, p, "started", 10*time.Second)
	require.NoError(t, err)
	// Wait until the three children exist (by event: they appear in /proc).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var tree []observe.ProcInfo
	_, err = poll.Wait(ctx, func(context.Context) poll.Result {
		tree, err = observe.Tree(p.Pid())
		switch {
		case err != nil:
			return poll.Fail(err)
		case len(tree) >= 4:
			return poll.Done()
		}
		return poll.Continue("tree: %+v", tree)
	})
	require.NoError(t, err)
	ex := p.Stop()
	assert.True(t, ex.Exited)
	assert.Equal(t, "SIGKILL", ex.StoppedBy, "the shell ignores SIGINT and SIGTERM")
	for _, pi := range tree {
		assert.False(t, pi.Alive(), "process %d (%s) is still running", pi.PID, pi.Comm)
	}
}

func TestOutputCap(t *testing.T) {
	p := start(t, Spec{Argv: []string{"python3", "-c", "import sys\nfor i in range(100000): print('x' * 99)\nprint('y' * 200000, end='')"}, OutputCap: 64 << 10})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, p.WaitOutput(ctx))
	lines := p.Output().Lines()
	var total int
	var marks int
	for _, l := range lines {
		total += len(l.Text) + 1
		if l.Mark {
			marks++
			assert.Contains(t, l.Text, "output truncated")
		}
	}
	assert.Equal(t, 1, marks, "one truncation mark")
	assert.LessOrEqual(t, total, 64<<10+200)
	assert.Equal(t, 0, p.Exit().Code)
}

func TestStartErrors(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "server")
	require.NoError(t, os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644))
	tests := []struct {
		name     string
		argv     []string
		netgrade bool
	}{
		{"missing file", []string{filepath.Join(dir, "nope")}, false},
		{"not executable", []string{notExec}, false},
		{"no such interpreter", []string{"python3.99"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Start(context.Background(), Spec{Argv: tc.argv}, interp)
			var se *StartError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.netgrade, se.Netgrade)
		})
	}
}

func TestExpand(t *testing.T) {
	tests := []struct {
		tmpl []string
		vars map[string]string
		want []string
	}{
		{[]string{"python3", "s.py", "{port}"}, map[string]string{"port": "4000"}, []string{"python3", "s.py", "4000"}},
		{[]string{"python3", "s.py", "{port}"}, nil, []string{"python3", "s.py"}},
		{[]string{"node", "c.js", "--to={host}:{port}", "{message}"}, map[string]string{"host": "localhost", "port": "1", "message": "a b"}, []string{"node", "c.js", "--to=localhost:1", "a b"}},
		{[]string{"x", "{other}"}, map[string]string{}, []string{"x"}},
		{[]string{"x", "{{port}}"}, map[string]string{"port": "9"}, []string{"x", "{9}"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.tmpl, " "), func(t *testing.T) {
			assert.Equal(t, tc.want, Expand(tc.tmpl, tc.vars))
		})
	}
}

// TestLastTracebackAcrossStreams reads a traceback with a line of stdout
// read in its middle, as happens when a prompt without a newline
// ("Message: ", printed by input()) is read only once the program ended:
// the stdout line does not end the traceback on stderr.
func TestPortsAvoidHardCodedAndRepeat(t *testing.T) {
	p := NewPorts(1)
	seen := map[int]bool{}
	for range 50 {
		port, err := p.Next()
		require.NoError(t, err)
		assert.False(t, seen[port], "port %d handed out twice", port)
		seen[port] = true
		assert.GreaterOrEqual(t, port, PortRangeLow)
		assert.Less(t, port, PortRangeHigh)
		l, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port))
		require.NoError(t, err, "a port handed out must be free")
		l.Close()
	}
}

// needPython skips a test without python3 on PATH, or fails it when
// NETGRADE_REQUIRE_PYTHON=1.
func needPython(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		if os.Getenv("NETGRADE_REQUIRE_PYTHON") == "1" {
			tb.Fatalf("python3 is required (NETGRADE_REQUIRE_PYTHON=1) but not found: %v", err)
		}
		tb.Skipf("SKIPPED: no python3 on PATH (%v); set NETGRADE_REQUIRE_PYTHON=1 to make this a failure", err)
	}
}
