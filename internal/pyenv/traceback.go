package pyenv

import (
	"regexp"
	"strings"

	"github.com/netgrade/netgrade/internal/harness"
)

// exceptionLine matches the last line of a Python traceback:
// "ValueError: invalid literal ...", "KeyboardInterrupt", "socket.gaierror: ...",
// and any module-qualified exception, whatever its name ends with:
// "smtplib.SMTPRecipientsRefused: ...", "poplib.error_proto: ...",
// "imaplib.IMAP4.error: ...".
var exceptionLine = regexp.MustCompile(`^((?:[A-Za-z_]\w*\.)+[A-Za-z_]\w*|[A-Za-z_]\w*(?:Error|Exception|Interrupt|Exit|Warning|gaierror|herror|timeout))(: .*)?$`)

// Traceback is the summary of a Python traceback found in a program's output.
type Traceback struct {
	// Exception is the exception's type name, e.g. "EOFError".
	Exception string
	// Line is the traceback's last line, e.g. "EOFError: EOF when reading a line".
	Line string
	// Where is the last "File ..., line N, in f" frame line, if any.
	Where string
}

// LastTraceback returns the last Python traceback printed in lines (either
// stream), or nil. A traceback starts with "Traceback (most recent call
// last):" or, for a syntax error, with a File "...", line N frame; a
// source file that is not UTF-8 gets the compile error's line alone on
// stderr ("SyntaxError: Non-UTF-8 code starting with '\xe9' in file ...").
//
// The two streams are read apart, so a line of the other stream may be
// read in the middle of a traceback (a prompt without a newline, printed
// before the crash, is read only when its stream ends): such a line does
// not end the traceback.
func LastTraceback(lines []harness.Line) *Traceback {
	var tb *Traceback
	inTrace := false
	var stream harness.Stream
	where := ""
	for _, l := range lines {
		t := l.Text
		// A traceback's header starts a new one on any stream: a line of
		// stdout that looks like a frame (`  File "notes.txt" missing`)
		// must not hide the traceback stderr prints after it.
		if inTrace && l.Stream != stream && !strings.HasPrefix(t, "Traceback (most recent call last):") {
			continue
		}
		switch {
		case strings.HasPrefix(t, "Traceback (most recent call last):"):
			inTrace, where, stream = true, "", l.Stream
		case strings.HasPrefix(t, "  File \""):
			if !inTrace {
				stream = l.Stream
			}
			inTrace = true
			where = strings.TrimSpace(t)
		case inTrace && !strings.HasPrefix(t, " ") && !strings.HasPrefix(t, "\t"):
			if m := exceptionLine.FindStringSubmatch(t); m != nil {
				tb = &Traceback{Exception: m[1], Line: t, Where: where}
			}
			inTrace = false
		case l.Stream == harness.Stderr && !l.Mark:
			if m := exceptionLine.FindStringSubmatch(t); m != nil && compileErrors[m[1]] {
				tb = &Traceback{Exception: m[1], Line: t}
			}
		}
	}
	return tb
}

// IsSyntax reports whether the traceback is a compile error: the program
// never ran a line.
func (t *Traceback) IsSyntax() bool {
	if t == nil {
		return false
	}
	return compileErrors[t.Exception]
}

// compileErrors are the exceptions of a file Python cannot compile.
var compileErrors = map[string]bool{"SyntaxError": true, "IndentationError": true, "TabError": true}
