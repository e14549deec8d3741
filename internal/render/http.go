package render

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/netgrade/netgrade/internal/report"
)

// Bounds of an HTTP body excerpt in a transcript: a report shows the start
// of a body, enough to see what a page says; the JSON report keeps the
// whole excerpt the grader recorded.
const (
	httpBodyLines     = 8
	httpBodyLineRunes = 160
	httpLineRunes     = 200
)

// EventLines is the terminal-safe description of a transcript event, a
// string a line. Most events take one line (EventText); an HTTP request or
// response takes the lines `curl -v` shows for it: `> GET /date HTTP/1.1`
// and the request's headers, or `< HTTP/1.0 200 OK` and the response's
// headers, a blank `>` or `<` line, then the start of the body, and a `*`
// line for every problem netgrade found on the wire.
func EventLines(e report.Event) []string {
	if e.HTTP == nil || (e.Kind != report.EvHTTPRequest && e.Kind != report.EvHTTPResponse) {
		return []string{EventText(e)}
	}
	m := e.HTTP
	mark := ">"
	if e.Kind == report.EvHTTPResponse {
		mark = "<"
	}
	lines := []string{mark + " " + cutRunes(Terminal(httpFirstLine(e), false), httpLineRunes)}
	for _, h := range m.Headers {
		lines = append(lines, mark+" "+cutRunes(Terminal(h.Name+": "+h.Value, false), httpLineRunes))
	}
	if m.Line == "" || len(m.Headers) > 0 {
		lines = append(lines, mark)
	}
	lines = append(lines, httpBody(e)...)
	for _, p := range m.Problems {
		lines = append(lines, "* "+Terminal(p, false))
	}
	return lines
}

// httpFirstLine is a message's request or status line: the one that went
// over the wire when the event kept it, else the one its fields make.
func httpFirstLine(e report.Event) string {
	m := e.HTTP
	if m.Line != "" {
		return m.Line
	}
	if e.Kind == report.EvHTTPRequest {
		return strings.TrimSpace(m.Method + " " + m.Path + " " + m.Version)
	}
	line := m.Version + " " + strconv.Itoa(m.Status)
	if m.Reason != "" {
		line += " " + m.Reason
	}
	return line
}

// httpBody is the excerpt of a message's body: its first lines, each cut
// to a terminal's width, and a line saying how much more there was.
func httpBody(e report.Event) []string {
	if e.Data == "" {
		if e.Bytes > 0 {
			return []string{fmt.Sprintf("[%d bytes of body]", e.Bytes)}
		}
		return nil
	}
	text := strings.TrimRight(strings.ReplaceAll(e.Data, "\r\n", "\n"), "\n")
	all := strings.Split(text, "\n")
	show := all
	if len(show) > httpBodyLines {
		show = show[:httpBodyLines]
	}
	var out []string
	for _, l := range show {
		out = append(out, cutRunes(Terminal(l, false), httpBodyLineRunes))
	}
	switch {
	case len(all) > len(show) || e.HTTP.Truncated:
		out = append(out, fmt.Sprintf("[… %d bytes of body in all]", e.Bytes))
	case e.Bytes > 0:
		out = append(out, fmt.Sprintf("[%d bytes of body]", e.Bytes))
	}
	return out
}

// cutRunes cuts s to at most n runes, marking the cut with an ellipsis.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// eventBlock is EventLines joined into lines under a first one at column 0,
// the next ones indented by indent: a transcript entry as text.
func eventBlock(e report.Event, indent string) string {
	return strings.Join(EventLines(e), "\n"+indent)
}
