package pyenv

import (
	"bytes"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/internal/harness"
	"github.com/stretchr/testify/require"
)

// fuzzLines reads stdout and stderr into an Output the way a program's
// streams are read, one after the other.
func fuzzLines(stdout, stderr []byte, stderrFirst bool) []harness.Line {
	o := harness.NewOutput(0)
	first, second := harness.Line{Stream: harness.Stdout}, harness.Line{Stream: harness.Stderr}
	a, b := stdout, stderr
	if stderrFirst {
		first, second = second, first
		a, b = b, a
	}
	o.ReadStream(bytes.NewReader(a), first.Stream)
	o.ReadStream(bytes.NewReader(b), second.Stream)
	return o.Lines()
}

// realTraceback is the end of what Python 3.11 writes to stderr when a
// program dies of an exception.
const realTraceback = "Traceback (most recent call last):\n" +
	"  File \"server.py\", line 7, in <module>\n" +
	"    port = int(sys.argv[1])\n" +
	"           ^^^^^^^^^^^^^^^^\n" +
	"ValueError: invalid literal for int() with base 10: 'abc'\n"

// FuzzLastTraceback reads the traceback of whatever a program prints. A
// traceback it finds is made of the program's own lines: its last line is
// one of them, whole, and names the exception it reports; its frame is
// one of them too. And the last traceback wins: a real one printed last
// on stderr is the one found, whatever came before.
func FuzzLastTraceback(f *testing.F) {
	f.Add([]byte("Connecting...\n"), []byte(realTraceback), false)
	f.Add([]byte("Message: "), []byte("Traceback (most recent call last):\n  File \"client.py\", line 3, in <module>\n    msg = input(\"Message: \")\n          ^^^^^^^^^^^^^^^^^^\nEOFError: EOF when reading a line\n"), true)
	f.Add([]byte(""), []byte("  File \"server.py\", line 2\n    sock = socket.socket(\n                        ^\nSyntaxError: '(' was never closed\n"), false)
	f.Add([]byte(""), []byte("SyntaxError: Non-UTF-8 code starting with '\\xe9' in file server.py on line 1, but no encoding declared; see https://peps.python.org/pep-0263/ for details\n"), false)
	f.Add([]byte("Traceback (most recent call last):\nKeyboardInterrupt\n"), []byte("Traceback (most recent call last):\r\n  File \"x.py\", line 1\r\nsocket.gaierror: [Errno -2] Name or service not known\r\n"), true)
	f.Add([]byte("\x00\xff\r\n  File \"\n"), []byte("Traceback (most recent call last):\n\tFile\nimaplib.IMAP4.error: b'[AUTHENTICATIONFAILED] Invalid credentials (Failure)'"), false)
	f.Fuzz(func(t *testing.T, stdout, stderr []byte, stderrFirst bool) {
		lines := fuzzLines(stdout, stderr, stderrFirst)
		tb := LastTraceback(lines)
		if tb != nil {
			texts := map[string]bool{}
			frames := map[string]bool{}
			for _, l := range lines {
				texts[l.Text] = true
				frames[strings.TrimSpace(l.Text)] = true
			}
			require.True(t, texts[tb.Line], "the exception line %q is a line the program printed", tb.Line)
			require.True(t, strings.HasPrefix(tb.Line, tb.Exception), "%q names %q", tb.Line, tb.Exception)
			require.Regexp(t, exceptionLine, tb.Line)
			require.NotEmpty(t, tb.Exception)
			if tb.Where != "" {
				require.True(t, frames[tb.Where], "the frame %q is a line the program printed", tb.Where)
				require.True(t, strings.HasPrefix(tb.Where, "File \""), tb.Where)
			}
		}
		// Within the output's bounds, a traceback printed last on stderr
		// is the one found.
		if stderrFirst || len(stdout)+len(stderr)+len(realTraceback) > harness.DefaultOutputCap/2 {
			return
		}
		last := LastTraceback(fuzzLines(stdout, append(append(append([]byte(nil), stderr...), '\n'), realTraceback...), false))
		require.NotNil(t, last)
		require.Equal(t, "ValueError", last.Exception)
		require.Equal(t, "ValueError: invalid literal for int() with base 10: 'abc'", last.Line)
		require.Equal(t, `File "server.py", line 7, in <module>`, last.Where)
	})
}

// TestTracebackAfterFrameLikeStdout is the case FuzzLastTraceback found:
// a line of stdout that looks like a frame started a traceback on stdout,
// and every stderr line after it, the real traceback included, was
// skipped as a line of the other stream.
func TestTracebackAfterFrameLikeStdout(t *testing.T) {
	lines := fuzzLines([]byte("  File \"notes.txt\" not found\n"),
		[]byte("Traceback (most recent call last):\n  File \"client.py\", line 3, in <module>\n    msg = input(\"Message: \")\nEOFError: EOF when reading a line\n"), false)
	tb := LastTraceback(lines)
	require.NotNil(t, tb)
	require.Equal(t, "EOFError", tb.Exception)
	require.Equal(t, `File "client.py", line 3, in <module>`, tb.Where)
}
