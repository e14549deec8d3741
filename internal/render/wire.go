package render

import (
	"fmt"
	"html"
	"html/template"
	"strings"

	"github.com/netgrade/netgrade/internal/report"
)

// wireSource says where a check's wire answers come from, for a reader.
func wireSource(w *report.Wire) string {
	if w.Source == "capture" {
		return "counted in its capture"
	}
	return "computed from the transcript, as loopback IPv4 carries it; --capture counts the real frames"
}

// lessonOf returns the check of r whose wire answers the exercise's
// report shows in one line (the first that has some), and that line.
func lessonOf(r report.Result) (report.Check, string, bool) {
	for _, c := range r.Checks {
		if c.Wire == nil || len(c.Wire.Lines) == 0 {
			continue
		}
		lines := c.Wire.Lines
		first, last := lines[0], lines[len(lines)-1]
		line := first
		switch {
		case strings.HasPrefix(last, "No TLS") || strings.HasPrefix(last, "An eavesdropper"):
			line = last
		case last != first:
			line = first + "; " + last
		}
		return c, line, true
	}
	return report.Check{}, "", false
}

// textWire writes the exercise's line about its traffic, and why there
// are no captures when some were asked for.
func (t *textWriter) wire(r report.Result) {
	if c, line, ok := lessonOf(r); ok {
		t.printf("  %s %s %s\n", t.style(ansiDim, "on the wire:"), Terminal(line, false), t.style(ansiDim, "("+Terminal(c.ID, false)+", "+wireSource(c.Wire)+")"))
	}
	if r.CaptureNote != "" {
		t.printf("  %s %s\n", t.style(ansiDim, "capture:"), Terminal(r.CaptureNote, false))
	}
}

// mdWire is the exercise's traffic in Markdown: each check's answers and
// its capture, linked.
func mdWire(r report.Result) string {
	var b strings.Builder
	for _, c := range r.Checks {
		if c.Capture == "" && (c.Wire == nil || len(c.Wire.Lines) == 0) {
			continue
		}
		fmt.Fprintf(&b, "- %s", mdInline(c.ID))
		if c.Capture != "" {
			fmt.Fprintf(&b, " ([capture](%s))", mdLink(c.Capture))
		}
		if c.Wire != nil && len(c.Wire.Lines) > 0 {
			fmt.Fprintf(&b, ", %s: %s", mdInline(wireSource(c.Wire)), mdInline(strings.Join(c.Wire.Lines, "; ")))
		}
		b.WriteString("\n")
	}
	if r.CaptureNote != "" {
		fmt.Fprintf(&b, "- %s\n", mdInline(r.CaptureNote))
	}
	if b.Len() == 0 {
		return ""
	}
	return "\nOn the wire:\n\n" + b.String()
}

// mdLink makes a relative path safe as a Markdown link destination.
func mdLink(p string) string {
	return strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E").Replace(p)
}

// Ladder geometry, in SVG user units.
const (
	ladderWidth   = 640
	ladderLeft    = 150 // netgrade's line
	ladderRight   = 590 // the program's line
	ladderTop     = 36
	ladderStep    = 26
	ladderMaxRows = 40
	ladderExcerpt = 48
)

// ladderRow is one arrow of a ladder diagram.
type ladderRow struct {
	timeMS  float64
	toRight bool // from netgrade to the program
	label   string
}

// Ladder draws a transcript's exchange as a ladder diagram: netgrade and
// the program as two vertical lines, each message, connection and close
// an arrow between them with its time and a short excerpt. It is inline
// SVG: no script, no external resource; every text is escaped. It returns
// "" for a transcript without network events.
func Ladder(evs []report.Event) template.HTML {
	var rows []ladderRow
	netgradeClient := true
	decided := false
	more := 0
	// The program's ends: a close comes from one of them or from netgrade.
	program := map[string]bool{}
	for _, e := range evs {
		switch e.Kind {
		case report.EvSend, report.EvConnect:
			program[e.To] = true
		case report.EvRecv:
			program[e.From] = true
		}
	}
	for _, e := range evs {
		right, label, ok := ladderArrow(e, program)
		if !ok {
			continue
		}
		if !decided {
			decided = true
			netgradeClient = right
			if p, _, _ := strings.Cut(e.Proto, "/"); p == "smtp" || p == "pop3" || p == "imap" {
				netgradeClient = false
			}
		}
		if len(rows) == ladderMaxRows {
			more++
			continue
		}
		rows = append(rows, ladderRow{timeMS: e.TimeMS, toRight: right, label: label})
	}
	if len(rows) == 0 {
		return ""
	}
	left, right := "netgrade (server)", "your program (client)"
	if netgradeClient {
		left, right = "netgrade (client)", "your program (server)"
	}
	height := ladderTop + len(rows)*ladderStep + 16
	if more > 0 {
		height += ladderStep
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="ladder" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="ladder diagram of the exchange" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="11">`, ladderWidth, height, ladderWidth, height)
	fmt.Fprintf(&b, `<text x="%d" y="14" text-anchor="middle" font-weight="bold">%s</text>`, ladderLeft, esc(left))
	fmt.Fprintf(&b, `<text x="%d" y="14" text-anchor="end" font-weight="bold">%s</text>`, ladderRight, esc(right))
	for _, x := range []int{ladderLeft, ladderRight} {
		fmt.Fprintf(&b, `<line x1="%d" y1="20" x2="%d" y2="%d" stroke="#59636e"/>`, x, x, height-4)
	}
	for i, r := range rows {
		y := ladderTop + i*ladderStep + 10
		x1, x2, dir := ladderLeft, ladderRight, -1
		if !r.toRight {
			x1, x2, dir = ladderRight, ladderLeft, 1
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="#59636e">%s</text>`, ladderLeft-8, y+4, esc(fmt.Sprintf("%+.1f ms", r.timeMS)))
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#0969da"/>`, x1, y, x2, y)
		fmt.Fprintf(&b, `<polygon points="%d,%d %d,%d %d,%d" fill="#0969da"/>`, x2, y, x2+dir*7, y-4, x2+dir*7, y+4)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`, (ladderLeft+ladderRight)/2, y-4, esc(r.label))
	}
	if more > 0 {
		y := ladderTop + len(rows)*ladderStep + 10
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#59636e">%s</text>`, (ladderLeft+ladderRight)/2, y, esc(fmt.Sprintf("… %d more (see the transcript)", more)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text above is escaped by esc
}

// ladderArrow returns an event's arrow: whether it goes from netgrade to
// the program (whose ends are program), and its label; ok is false for an
// event that is no arrow (output, notes, starts and exits).
func ladderArrow(e report.Event, program map[string]bool) (toRight bool, label string, ok bool) {
	proto := e.Proto
	switch e.Kind {
	case report.EvSend:
		return true, ladderLabel(proto, e.Bytes, e.Data), true
	case report.EvRecv:
		return false, ladderLabel(proto, e.Bytes, e.Data), true
	case report.EvConnect:
		return true, proto + " connect", true
	case report.EvClose:
		// From is the end that closed.
		return !program[e.From], proto + " close", true
	case report.EvHTTPRequest:
		l := "HTTP request"
		if e.HTTP != nil {
			l = strings.TrimSpace(e.HTTP.Method + " " + e.HTTP.Path)
		}
		return true, Terminal(l, false), true
	case report.EvHTTPResponse:
		l := "HTTP response"
		if e.HTTP != nil && e.HTTP.Status != 0 {
			l = strings.TrimSpace(fmt.Sprintf("%d %s", e.HTTP.Status, e.HTTP.Reason))
		}
		return false, Terminal(l, false), true
	}
	return false, "", false
}

func ladderLabel(proto string, n int, data string) string {
	return fmt.Sprintf("%s %d B %s", proto, n, excerpt(data))
}

// excerpt is the start of a text on one line, quoted.
func excerpt(s string) string {
	s = Terminal(s, false)
	r := []rune(s)
	if len(r) > ladderExcerpt {
		s = string(r[:ladderExcerpt]) + "…"
	}
	return `"` + s + `"`
}

// esc escapes text for an SVG text node or attribute.
func esc(s string) string { return html.EscapeString(s) }
