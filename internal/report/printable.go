package report

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Printable returns b as the text of an event's Data: valid UTF-8 as it
// is, every other byte as a \xNN escape, as the result JSON documents.
func Printable(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			fmt.Fprintf(&sb, `\x%02x`, b[0])
			b = b[1:]
			continue
		}
		sb.Write(b[:n])
		b = b[n:]
	}
	return sb.String()
}
