// Package render turns report values into the formats people and tools
// read: one file per format, none computing anything of its own. What a
// submission printed is data: every renderer neutralises it for its medium.
package render

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Terminal makes text from a graded program safe to write to a terminal or
// a CI log: control characters (escape sequences, carriage returns,
// backspaces, bell), C1 controls and bidirectional overrides are shown as
// visible \xNN or \uNNNN escapes, so a program cannot recolour, move the
// cursor, rewrite a line or fake netgrade's own output; and the text of a CI
// runner's log commands (GitHub's "##[cmd]" anywhere in a line, "::cmd::" at
// the start of one) is broken with a \x23 or \x3a escape so that it stays
// text. Tabs are kept; newlines are kept only when keepNewlines is true.
func Terminal(s string, keepNewlines bool) string {
	cmd := LogCommands(s)
	if len(cmd) == 0 && isPlain(s, keepNewlines) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case len(cmd) > 0 && cmd[0] == i:
			fmt.Fprintf(&b, `\x%02x`, s[i])
			cmd = cmd[1:]
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' && keepNewlines, r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// isPlain reports whether s has no character that Terminal escapes for
// itself: no invalid UTF-8, no control character but tab (and newline
// when keepNewlines is true), no unsafeRune. It does not look for log
// commands: its callers have found them with LogCommands already, and s
// needs no escaping only when there are none as well.
func isPlain(s string, keepNewlines bool) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return false
		}
		if (r < 0x20 && r != '\t' && !(r == '\n' && keepNewlines)) || r == 0x7f || unsafeRune(r) {
			return false
		}
		i += n
	}
	return true
}

// unsafeRune reports runes that change how a terminal or a page shows the
// text around them: C1 controls, bidi overrides and isolates, and other
// format characters.
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r < 0xa0:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f:
		return true
	case r == 0xfeff, r == 0xfffe, r == 0xffff:
		return true
	}
	return unicode.Is(unicode.Cc, r)
}

// LogCommands returns the byte offsets in s of the characters to escape so
// that no line of s reads as a command of a CI runner's log: the second #
// of every "##[" (GitHub's legacy commands, found anywhere in a line) and
// the first : of a "::" that starts a line, spaces aside (GitHub's workflow
// commands such as ::error:: and ::stop-commands::). Each renderer escapes
// them in its own medium.
func LogCommands(s string) []int {
	var out []int
	lineStart := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\n' || c == '\r':
			lineStart = true
			continue
		case lineStart && (c == ' ' || c == '\t'):
			continue
		case lineStart && c == ':' && i+1 < len(s) && s[i+1] == ':':
			out = append(out, i)
		case c == '#' && strings.HasPrefix(s[i:], "##["):
			out = append(out, i+1)
			i++
		}
		lineStart = false
	}
	return out
}
