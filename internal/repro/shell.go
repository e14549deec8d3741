package repro

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// safeWord matches a word the shell takes as it is.
var safeWord = regexp.MustCompile(`^[A-Za-z0-9@%+=:,./_-]+$`)

// Quote returns s as one shell word: as it is when the shell would not
// change it, else in single quotes.
func Quote(s string) string {
	if safeWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// escaped matches a \xNN escape, how an event's Data writes a byte that
// is not UTF-8 (report.Printable).
var escaped = regexp.MustCompile(`\\x[0-9a-fA-F]{2}`)

// hasEscapes reports whether an event's Data holds bytes that are not
// UTF-8, written as \xNN.
func hasEscapes(data string) bool { return escaped.MatchString(data) }

// Printf returns the format, one shell word, that makes printf(1) write
// the bytes of an event's Data: its text as it is, its \xNN escapes as
// the bytes they stand for, line ends and other control characters
// escaped, % doubled. The escapes are octal (\351), which every shell's
// printf reads (dash's has no \x).
func Printf(data string) string {
	var sb strings.Builder
	for i := 0; i < len(data); {
		if loc := escaped.FindStringIndex(data[i:]); loc != nil && loc[0] == 0 {
			v, _ := strconv.ParseUint(data[i+2:i+4], 16, 8)
			fmt.Fprintf(&sb, `\%03o`, v)
			i += 4
			continue
		}
		ch := data[i]
		switch {
		case ch == '%':
			sb.WriteString("%%")
		case ch == '\\':
			sb.WriteString(`\\`)
		case ch == '\n':
			sb.WriteString(`\n`)
		case ch == '\r':
			sb.WriteString(`\r`)
		case ch == '\t':
			sb.WriteString(`\t`)
		case ch == '-' && i == 0:
			// A format starting with - would be taken for an option.
			sb.WriteString(`\055`)
		case ch < 0x20 || ch == 0x7f:
			fmt.Fprintf(&sb, `\%03o`, ch)
		default:
			sb.WriteByte(ch)
		}
		i++
	}
	return "'" + strings.ReplaceAll(sb.String(), "'", `'\''`) + "'"
}
