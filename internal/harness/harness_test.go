package harness

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	// As on a student's machine: Python block-buffers a pipe.
	os.Unsetenv("PYTHONUNBUFFERED")
	os.Exit(m.Run())
}

var interp = NewInterpreters()

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
	tb := LastTraceback(p.Output().Lines())
	require.NotNil(t, tb)
	assert.Equal(t, "EOFError", tb.Exception)
	assert.Equal(t, "EOFError: EOF when reading a line", tb.Line)
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
	deadline := time.Now().Add(10 * time.Second)
	var tree []ProcInfo
	for time.Now().Before(deadline) {
		tree, err = Tree(p.Pid())
		require.NoError(t, err)
		if len(tree) >= 4 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	require.GreaterOrEqual(t, len(tree), 4, "tree: %+v", tree)
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

func TestWaitBound(t *testing.T) {
	ports := NewPorts(42)
	want, err := ports.Next()
	require.NoError(t, err)
	other, err := ports.Next()
	require.NoError(t, err)
	serve := func(port int) Spec {
		return Spec{Argv: []string{"python3", "-c", fmt.Sprintf(`import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("", %d))
t = socket.socket()
t.bind(("127.0.0.1", 0))
t.listen()
time.sleep(60)`, port)}}
	}
	t.Run("the asked port", func(t *testing.T) {
		p := start(t, serve(want))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, socks, err := WaitBound(ctx, p.Pid(), "udp", want, p.Done())
		require.NoError(t, err)
		assert.Equal(t, want, s.Port)
		assert.Equal(t, "BOUND", s.State)
		assert.True(t, s.Addr.IsUnspecified())
		var listening int
		for _, s := range socks {
			if s.Proto == "tcp" && s.State == "LISTEN" {
				listening++
				assert.Equal(t, "127.0.0.1", s.Addr.String())
			}
		}
		assert.Equal(t, 1, listening, "the TCP listener shows too: %v", socks)
	})
	t.Run("another port", func(t *testing.T) {
		p := start(t, serve(other))
		// First the program binds its port, however long it takes to
		// start on a busy machine; then the wait for the port it was not
		// given ends at its deadline.
		bctx, bcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer bcancel()
		_, _, err := WaitBound(bctx, p.Pid(), "udp", other, p.Done())
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		_, socks, err := WaitBound(ctx, p.Pid(), "udp", want, p.Done())
		require.ErrorIs(t, err, context.DeadlineExceeded)
		var held []string
		for _, s := range socks {
			held = append(held, s.String())
		}
		assert.Contains(t, held, fmt.Sprintf("UDP 0.0.0.0:%d", other))
	})
	t.Run("exits first", func(t *testing.T) {
		p := start(t, Spec{Argv: []string{"python3", "-c", "raise SystemExit(3)"}})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _, err := WaitBound(ctx, p.Pid(), "udp", want, p.Done())
		require.ErrorIs(t, err, ErrExited)
		assert.Equal(t, 3, p.Exit().Code)
	})
}

// WaitBound reads /proc only: no packet reaches the program. A UDP server
// that records whatever it receives must have received nothing.
func TestWaitBoundSendsNothing(t *testing.T) {
	port, err := NewPorts(7).Next()
	require.NoError(t, err)
	p := start(t, Spec{Argv: []string{"python3", "-c", fmt.Sprintf(`import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", %d))
s.settimeout(1.5)
try:
    print("got", s.recvfrom(100))
except socket.timeout:
    print("nothing")`, port)}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err = WaitBound(ctx, p.Pid(), "udp", port, p.Done())
	require.NoError(t, err)
	require.NoError(t, p.WaitOutput(ctx))
	_, err = waitText(t, p, "nothing", time.Second)
	assert.NoError(t, err, "printed %v", p.Output().Lines())
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
			_, err := Start(context.Background(), Spec{Argv: tc.argv}, NewInterpreters())
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
func TestLastTracebackAcrossStreams(t *testing.T) {
	tests := []struct {
		name  string
		lines []Line
	}{
		{"prompt read before the exception line", []Line{
			{Stream: Stderr, Text: "Traceback (most recent call last):"},
			{Stream: Stderr, Text: `  File "c.py", line 10, in <module>`},
			{Stream: Stdout, Text: "Message: "},
			{Stream: Stderr, Text: `    message = input("Message: ")`},
			{Stream: Stderr, Text: "EOFError: EOF when reading a line"},
		}},
		{"prompt read before the frame", []Line{
			{Stream: Stderr, Text: "Traceback (most recent call last):"},
			{Stream: Stdout, Text: "Message: "},
			{Stream: Stderr, Text: `  File "c.py", line 10, in <module>`},
			{Stream: Stderr, Text: `    message = input("Message: ")`},
			{Stream: Stderr, Text: "EOFError: EOF when reading a line"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := LastTraceback(tc.lines)
			require.NotNil(t, tb)
			assert.Equal(t, "EOFError", tb.Exception)
			assert.Equal(t, `File "c.py", line 10, in <module>`, tb.Where)
		})
	}
}

func TestLastTraceback(t *testing.T) {
	lines := func(s string) []Line {
		var out []Line
		for _, l := range strings.Split(s, "\n") {
			out = append(out, Line{Text: l, Stream: Stderr})
		}
		return out
	}
	tests := []struct {
		name, out, exc, line string
	}{
		{"eof after a prompt", "Port: Traceback (most recent call last):\n  File \"s.py\", line 3, in <module>\n    port = int(input('Port: '))\nEOFError: EOF when reading a line", "EOFError", "EOFError: EOF when reading a line"},
		{"eof clean", "Traceback (most recent call last):\n  File \"s.py\", line 3, in <module>\n    port = int(input())\n               ^^^^^^^\nEOFError: EOF when reading a line", "EOFError", "EOFError: EOF when reading a line"},
		{"indentation", "  File \"/x/s.py\", line 10\n    data, addr = s.recvfrom(1024)\n    ^^^^\nIndentationError: expected an indented block after 'while' statement on line 9", "IndentationError", "IndentationError: expected an indented block after 'while' statement on line 9"},
		{"dotted", "Traceback (most recent call last):\n  File \"c.py\", line 2, in <module>\nsocket.gaierror: [Errno -2] Name or service not known", "socket.gaierror", "socket.gaierror: [Errno -2] Name or service not known"},
		{"last of two", "Traceback (most recent call last):\n  File \"a\", line 1\nValueError: x\nTraceback (most recent call last):\n  File \"a\", line 2\nKeyboardInterrupt", "KeyboardInterrupt", "KeyboardInterrupt"},
		{"module-qualified, any name", "Traceback (most recent call last):\n  File \"c.py\", line 9, in <module>\n    raise SMTPRecipientsRefused(senderrs)\nsmtplib.SMTPRecipientsRefused: {'nobody@example.org': (550, b'no')}", "smtplib.SMTPRecipientsRefused", "smtplib.SMTPRecipientsRefused: {'nobody@example.org': (550, b'no')}"},
		{"lower-case class", "Traceback (most recent call last):\n  File \"p.py\", line 9, in <module>\npoplib.error_proto: b'-ERR [AUTH] invalid'", "poplib.error_proto", "poplib.error_proto: b'-ERR [AUTH] invalid'"},
		{"nested class", "Traceback (most recent call last):\n  File \"i.py\", line 9, in <module>\nimaplib.IMAP4.error: b'[AUTHENTICATIONFAILED] no'", "imaplib.IMAP4.error", "imaplib.IMAP4.error: b'[AUTHENTICATIONFAILED] no'"},
		{"chained: not an exception line", "Traceback (most recent call last):\n  File \"a\", line 1\nDuring handling of the above exception, another exception occurred:", "", ""},
		{"none", "hello\nValueError: printed by the program itself", "", ""},
		{"source not UTF-8", "SyntaxError: Non-UTF-8 code starting with '\\xe9' in file /x/c.py on line 1, but no encoding declared; see https://peps.python.org/pep-0263/ for details", "SyntaxError", "SyntaxError: Non-UTF-8 code starting with '\\xe9' in file /x/c.py on line 1, but no encoding declared; see https://peps.python.org/pep-0263/ for details"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := LastTraceback(lines(tc.out))
			if tc.exc == "" {
				assert.Nil(t, tb)
				return
			}
			require.NotNil(t, tb)
			assert.Equal(t, tc.exc, tb.Exception)
			assert.Equal(t, tc.line, tb.Line)
		})
	}
}

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
