package pyenv

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/internal/harness"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLastTracebackAcrossStreams(t *testing.T) {
	tests := []struct {
		name  string
		lines []harness.Line
	}{
		{"prompt read before the exception line", []harness.Line{
			{Stream: harness.Stderr, Text: "Traceback (most recent call last):"},
			{Stream: harness.Stderr, Text: `  File "c.py", line 10, in <module>`},
			{Stream: harness.Stdout, Text: "Message: "},
			{Stream: harness.Stderr, Text: `    message = input("Message: ")`},
			{Stream: harness.Stderr, Text: "EOFError: EOF when reading a line"},
		}},
		{"prompt read before the frame", []harness.Line{
			{Stream: harness.Stderr, Text: "Traceback (most recent call last):"},
			{Stream: harness.Stdout, Text: "Message: "},
			{Stream: harness.Stderr, Text: `  File "c.py", line 10, in <module>`},
			{Stream: harness.Stderr, Text: `    message = input("Message: ")`},
			{Stream: harness.Stderr, Text: "EOFError: EOF when reading a line"},
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
	lines := func(s string) []harness.Line {
		var out []harness.Line
		for _, l := range strings.Split(s, "\n") {
			out = append(out, harness.Line{Text: l, Stream: harness.Stderr})
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

// TestOutOfMemory: the harness learns from Python's runtime that a program
// died of a MemoryError: the last traceback on stderr names it.
func TestOutOfMemory(t *testing.T) {
	stderr := func(lines ...string) []harness.Line {
		var out []harness.Line
		for _, l := range lines {
			out = append(out, harness.Line{Stream: harness.Stderr, Text: l})
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		lines []harness.Line
		want  bool
	}{
		{"memory error", stderr("Traceback (most recent call last):", `  File "s.py", line 15, in <module>`, `    hog.append(b"\x01" * (64 << 20))`, "MemoryError"), true},
		{"other error", stderr("Traceback (most recent call last):", `  File "s.py", line 3, in <module>`, "OSError: [Errno 98] Address already in use"), false},
		{"no traceback", stderr("MemoryError"), false},
		{"nothing", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, NewInterpreters().OutOfMemory(tc.lines))
		})
	}
}

// TestStartWithoutTheInterpreter: a Python interpreter that is not there
// is the grader's fault, a program file that is not there the
// submission's; a program not written in Python is left to the kernel.
func TestStartWithoutTheInterpreter(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	for _, tc := range []struct {
		name     string
		argv     []string
		netgrade bool
	}{
		{"no such interpreter", []string{"python3.99"}, true},
		{"missing file", []string{missing}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := harness.Start(context.Background(), harness.Spec{Argv: tc.argv}, NewInterpreters())
			var se *harness.StartError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.netgrade, se.Netgrade)
		})
	}
}
