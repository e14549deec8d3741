package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/netgrade/netgrade/internal/report"
)

// Results is the JSON document for several results at once (a student's
// folder): the schema version and one result per exercise.
type Results struct {
	Schema  int             `json:"schema"`
	Results []report.Result `json:"results"`
}

// JSON writes one result as DESIGN's result object, or several as a Results
// document. Go's encoder escapes every control character and <, >, & in
// strings, so nothing a program printed can break the document or a page
// that embeds it; a CI log command in a string is broken with a \u escape
// (see LogCommands), so the document can go to a CI log as it is.
func JSON(w io.Writer, results []report.Result) error {
	if len(results) == 1 {
		return writeJSON(w, results[0])
	}
	if results == nil {
		results = []report.Result{}
	}
	return writeJSON(w, Results{Schema: report.Schema, Results: results})
}

// writeJSON encodes v indented and escapes log commands in it.
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(jsonLogSafe(buf.Bytes()))
	return err
}

// jsonLogSafe escapes the characters LogCommands finds, and the runes
// that change how a terminal or an editor shows the text around them
// (bidi overrides, C1 controls: see unsafeRune), which Go's encoder leaves
// as they are. In indented JSON no line starts with ':' and "##[" or a
// non-ASCII rune only occurs inside strings, where a \u escape means the
// same character.
func jsonLogSafe(b []byte) []byte {
	s := string(b)
	at := LogCommands(s)
	if len(at) == 0 && isPlain(s, true) {
		return b
	}
	var out bytes.Buffer
	for i := 0; i < len(s); {
		if len(at) > 0 && at[0] == i {
			fmt.Fprintf(&out, `\u%04x`, s[i])
			at = at[1:]
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r > 0x7f && unsafeRune(r) {
			fmt.Fprintf(&out, `\u%04x`, r)
		} else {
			out.WriteString(s[i : i+n])
		}
		i += n
	}
	return out.Bytes()
}
