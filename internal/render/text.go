package render

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/netgrade/netgrade/internal/report"
)

// TextOptions tune the terminal report.
type TextOptions struct {
	// Color turns on ANSI colours; set it only for a terminal, never under
	// NO_COLOR.
	Color bool
	// TranscriptLines bounds the transcript excerpt of a failure.
	TranscriptLines int
	// Student writes the report a student reads: checks the course hides
	// show no name or details (see ForStudents), and the first failing
	// check is named under the score.
	Student bool
	// FailuresOnly shows a result whose checks all pass in one line: only
	// what needs fixing takes room.
	FailuresOnly bool
}

// ANSI styles used by the text report.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiMag    = "\x1b[35m"
	ansiRevRed = "\x1b[41;97m"
)

// textWriter writes the text report with optional colour.
type textWriter struct {
	w   io.Writer
	opt TextOptions
	err error
}

func (t *textWriter) style(code, s string) string {
	if !t.opt.Color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (t *textWriter) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

var statusMark = map[report.Status]string{
	report.Pass: "✔", report.Fail: "✘", report.Skip: "–", report.Error: "!",
}

// unjudgedMark marks a check left out of the score: it ran but could not
// judge the program.
const unjudgedMark = "?"

// markOf is the mark of a check: its status's, or unjudgedMark.
func (t *textWriter) markOf(c report.Check) string {
	if c.Unjudged() {
		return t.style(ansiYellow, unjudgedMark)
	}
	return t.mark(c.Status)
}

func (t *textWriter) mark(s report.Status) string {
	code := map[report.Status]string{report.Pass: ansiGreen, report.Fail: ansiRed, report.Skip: ansiYellow, report.Error: ansiMag}[s]
	return t.style(code, statusMark[s])
}

// Text writes the terminal report of one or more results: a line per check,
// the score, then the details of every check that did not pass, the first
// failing check first.
func Text(w io.Writer, results []report.Result, opt TextOptions) error {
	if opt.TranscriptLines == 0 {
		opt.TranscriptLines = 14
	}
	t := &textWriter{w: w, opt: opt}
	results = readable(results)
	if opt.Student {
		results = ForStudents(results)
	}
	oneLine := func(r report.Result) bool { return opt.FailuresOnly && r.Passed() && len(r.Checks) > 0 }
	for i, r := range results {
		if i > 0 && !(oneLine(r) && oneLine(results[i-1])) {
			t.printf("\n")
		}
		t.result(r)
	}
	return t.err
}

func (t *textWriter) result(r report.Result) {
	title := r.Exercise
	if r.Title != "" {
		title += " — " + r.Title
	}
	if t.opt.FailuresOnly && r.Passed() && len(r.Checks) > 0 { // see oneLine in Text
		t.printf("%s %s  %s  %s\n", t.mark(report.Pass), t.style(ansiBold, Terminal(title, false)), t.style(ansiDim, Terminal(r.Submission, false)),
			t.style(ansiGreen, fmt.Sprintf("%s/%s: all %d checks pass", Num(r.Score), Num(r.MaxScore), len(r.Checks))))
		return
	}
	t.printf("%s  %s\n", t.style(ansiBold, Terminal(title, false)), t.style(ansiDim, Terminal(r.Submission, false)))
	if r.Missing {
		t.printf("  %s %s  (%s/%s)\n", t.mark(report.Skip), t.style(ansiYellow, "not handed in: "+Terminal(notHandedIn(r), false)), Num(r.Score), Num(r.MaxScore))
		return
	}
	width, twidth := 0, 0
	for _, c := range r.Checks {
		width = max(width, utf8.RuneCountInString(c.ID))
		twidth = max(twidth, utf8.RuneCountInString(c.Title))
	}
	for _, c := range r.Checks {
		pts := fmt.Sprintf("%s/%s", Num(c.Points), Num(c.MaxPoints))
		switch {
		case c.Unjudged():
			pts = "not judged, left out of the score"
		case c.Status == report.Skip:
			pts = "skipped"
		case c.Status == report.Error:
			pts = "error"
		}
		if !c.StudentVisible() && c.Title != HiddenTitle {
			pts += "  (" + strings.ReplaceAll(string(c.Visibility), "_", " ") + ": not shown to students)"
		}
		pad := strings.Repeat(" ", twidth-utf8.RuneCountInString(c.Title))
		t.printf("  %s %-*s  %s%s  %s\n", t.markOf(c), width, Terminal(c.ID, false), Terminal(c.Title, false), pad, t.style(ansiDim, pts))
		for _, n := range c.Notes {
			t.printf("    %s %s\n", t.style(ansiDim, "note:"), Terminal(n, false))
		}
	}
	summary := fmt.Sprintf("Score: %s/%s", Num(r.Score), Num(r.MaxScore))
	counts := []string{fmt.Sprintf("%d passed", r.Count(report.Pass))}
	unjudged := r.CountUnjudged()
	for _, s := range []report.Status{report.Fail, report.Skip, report.Error} {
		n := r.Count(s)
		if s == report.Skip {
			n -= unjudged
		}
		if n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, map[report.Status]string{report.Fail: "failed", report.Skip: "skipped", report.Error: "not run: netgrade error, not charged"}[s]))
		}
	}
	if unjudged > 0 {
		counts = append(counts, fmt.Sprintf("%d not judged, left out of the score", unjudged))
	}
	code := ansiGreen
	if !r.Passed() {
		code = ansiRed
	}
	t.printf("  %s  (%s)\n", t.style(ansiBold+code, summary), strings.Join(counts, ", "))
	t.wire(r)
	if r.Passed() {
		if unjudged == 0 {
			t.printf("  %s\n", t.style(ansiGreen, "All checks passed."))
			return
		}
		t.printf("  %s\n", t.style(ansiGreen, "All the checks that could judge the program passed."))
		t.unjudged(r)
		return
	}
	if t.opt.Student {
		if i := firstToFix(r); i >= 0 {
			c := r.Checks[i]
			t.printf("  First to fix: %s — %s\n", t.style(ansiBold, Terminal(c.ID, false)), Terminal(c.Title, false))
		}
	}
	same := sameCause(r)
	for _, c := range r.Checks {
		if c.Status == report.Fail || c.Status == report.Error {
			t.details(c, same[c.ID])
		}
	}
	var skipped []string
	for _, c := range r.Checks {
		if c.Status == report.Skip && !c.Unjudged() {
			if c.Message == "" {
				skipped = append(skipped, Terminal(c.ID, false))
				continue
			}
			skipped = append(skipped, fmt.Sprintf("%s (%s)", Terminal(c.ID, false), Terminal(c.Message, false)))
		}
	}
	if len(skipped) > 0 {
		t.printf("\n  %s\n", t.style(ansiYellow, "Skipped:"))
		for _, s := range skipped {
			t.printf("    – %s\n", s)
		}
	}
	t.unjudged(r)
}

// unjudged lists the checks that could not judge the program, with why:
// left out of the score, never passed.
func (t *textWriter) unjudged(r report.Result) {
	first := true
	for _, c := range r.Checks {
		if !c.Unjudged() {
			continue
		}
		if first {
			t.printf("\n  %s\n", t.style(ansiYellow, "Not judged (left out of the score):"))
			first = false
		}
		t.printf("    %s %s (%s)\n", unjudgedMark, Terminal(c.ID, false), Terminal(c.Message, false))
	}
}

// details writes everything a student needs to fix a failed check; when
// an earlier check (sameAs) failed from the same cause, it refers to it
// instead of repeating how the program ended, the transcript and the hint.
func (t *textWriter) details(c report.Check, sameAs string) {
	t.printf("\n%s %s — %s\n", t.mark(c.Status), t.style(ansiBold, Terminal(c.ID, false)), Terminal(c.Title, false))
	if isRedacted(c) {
		t.printf("    %s\n", hiddenNote)
		return
	}
	if c.Status == report.Error {
		t.printf("    %s %s\n", t.style(ansiMag, "netgrade error (not charged to you):"), Terminal(c.Message, false))
		return
	}
	if c.Requirement != "" {
		t.field("requirement", Terminal(c.Requirement, false))
	}
	t.field("problem", Terminal(c.Message, false))
	if c.Expected != "" || c.Actual != "" {
		t.diff(c.Expected, c.Actual)
	}
	if sameAs != "" {
		t.field("cause", Terminal(causeLine(sameAs, c.Traceback), false))
		t.try(c)
		return
	}
	if prog := programLine(Terminal(c.Exit, false), Terminal(c.Traceback, false)); prog != "" {
		t.field("program", prog)
	}
	if len(c.Transcript) > 0 {
		t.transcript(c.Transcript)
	}
	if c.Capture != "" {
		t.field("capture", Terminal(c.Capture, false)+" (Wireshark opens it)")
	}
	if c.Hint != "" {
		t.field("hint", t.style(ansiYellow, Terminal(c.Hint, false)))
	}
	t.try(c)
}

func (t *textWriter) field(name, value string) {
	t.printf("    %-12s %s\n", name+":", value)
}

// diff shows expected and actual; for one-line values the first differing
// character is marked with a caret and, in colour, the differing part of
// the actual value is highlighted.
func (t *textWriter) diff(expected, actual string) {
	exp := Terminal(expected, true)
	act := Terminal(actual, true)
	if strings.Contains(exp, "\n") || strings.Contains(act, "\n") {
		t.block("expected", exp)
		t.block("got", act)
		return
	}
	t.field("expected", exp)
	pre, suf := commonAffixes([]rune(exp), []rune(act))
	ar := []rune(act)
	if pre == len(ar) && pre == len([]rune(exp)) {
		t.field("got", act)
		return
	}
	mid := string(ar[pre : len(ar)-suf])
	shown := string(ar[:pre]) + t.style(ansiRevRed, mid) + string(ar[len(ar)-suf:])
	t.field("got", shown)
	t.printf("    %-12s %s%s\n", "", strings.Repeat(" ", displayWidth(string(ar[:pre]))), t.style(ansiRed, "^ differs from here"))
}

func (t *textWriter) block(name, value string) {
	lines := strings.Split(value, "\n")
	t.field(name, lines[0])
	for _, l := range lines[1:] {
		t.printf("    %-12s %s\n", "", l)
	}
}

// commonAffixes returns the lengths of the common prefix and of the common
// suffix (not overlapping the prefix) of a and b.
func commonAffixes(a, b []rune) (int, int) {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	return pre, suf
}

// displayWidth approximates the terminal width of s (one column a rune).
func displayWidth(s string) int { return utf8.RuneCountInString(s) }

// transcript writes an excerpt of a check's transcript: all of it when it
// is short, else its start and its end.
func (t *textWriter) transcript(evs []report.Event) {
	t.printf("    %s\n", "transcript:")
	n := t.opt.TranscriptLines
	show := evs
	cut := 0
	if len(evs) > n {
		head := 3
		show = append(append([]report.Event(nil), evs[:head]...), evs[len(evs)-(n-head):]...)
		cut = len(evs) - n
	}
	for i, e := range show {
		if cut > 0 && i == 3 {
			t.printf("      %s\n", t.style(ansiDim, fmt.Sprintf("… %d more events (see --format json for all) …", cut)))
		}
		t.printf("      %s  %s\n", t.style(ansiDim, fmt.Sprintf("%+9.1fms", e.TimeMS)), eventBlock(e, "      "+transcriptIndent))
	}
}

// transcriptIndent lines up the continuation lines of a transcript entry
// (an HTTP message's headers and body) under the entry's first line, past
// the time column.
var transcriptIndent = strings.Repeat(" ", len(fmt.Sprintf("%+9.1fms", 0.0))+2)

// EventText is the one-line, terminal-safe description of a transcript
// event; for an HTTP message, its request or status line (EventLines has
// all of it).
func EventText(e report.Event) string {
	data := Terminal(e.Data, false)
	switch e.Kind {
	case report.EvHTTPRequest, report.EvHTTPResponse:
		if e.HTTP != nil {
			return EventLines(e)[0]
		}
		return fmt.Sprintf("%-7s %s", string(e.Kind), data)
	case report.EvSend:
		return fmt.Sprintf("→ %s %s → %s  \"%s\" (%d bytes)", e.Proto, e.From, e.To, data, e.Bytes)
	case report.EvRecv:
		return fmt.Sprintf("← %s %s → %s  \"%s\" (%d bytes)", e.Proto, e.From, e.To, data, e.Bytes)
	case report.EvStdout, report.EvStderr:
		return fmt.Sprintf("%-7s %s", string(e.Kind), data)
	case report.EvConnect, report.EvClose:
		return fmt.Sprintf("%-7s %s %s → %s %s", string(e.Kind), e.Proto, e.From, e.To, data)
	default:
		return fmt.Sprintf("%-7s %s", string(e.Kind), data)
	}
}

// Num prints a score without a needless decimal part.
func Num(f float64) string {
	if f == float64(int64(f)) {
		return fmt.Sprintf("%d", int64(f))
	}
	return fmt.Sprintf("%.2f", f)
}
