package render

import (
	"html/template"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/netgrade/netgrade/internal/report"
)

// readable returns copies of the results as the human-readable formats
// show them: the output a program printed only because netgrade stopped
// it (report.Event.FromStop: Python's KeyboardInterrupt traceback after
// netgrade's SIGINT) is left out of every transcript, and requirements
// name the submission's file (withFileNames); the JSON keeps both as they
// are. The input is not modified.
func readable(results []report.Result) []report.Result {
	results = withFileNames(results)
	out := make([]report.Result, len(results))
	for i, r := range results {
		checks := make([]report.Check, len(r.Checks))
		for j, c := range r.Checks {
			if hasStopOutput(c.Transcript) {
				var evs []report.Event
				for _, e := range c.Transcript {
					if !e.FromStop {
						evs = append(evs, e)
					}
				}
				c.Transcript = evs
			}
			checks[j] = c
		}
		r.Checks = checks
		out[i] = r
	}
	return out
}

func hasStopOutput(evs []report.Event) bool {
	for _, e := range evs {
		if e.FromStop {
			return true
		}
	}
	return false
}

// sameCause returns, for every failed check of r whose own evidence shows
// the same traceback as an earlier failed check's, the ID of that earlier
// check: one cause (an input() on a closed stdin, a crash at start-up)
// is explained once, where it first shows, and the later checks refer to
// it instead of repeating its transcript and hint.
//
// A check's traceback is the last one its program printed, wherever it
// came from: a server that raised KeyError on one request and answered
// another with an HTML 405 page shows the KeyError in the checks that
// judged the 405 too. Such a check is linked only when the traceback is
// its own evidence (see showsCause), so that its own explanation and hint
// are never hidden behind another mistake's.
func sameCause(r report.Result) map[string]string {
	first := map[string]string{}
	out := map[string]string{}
	for _, c := range r.Checks {
		if c.Status != report.Fail || c.Traceback == "" || isRedacted(c) {
			continue
		}
		if id, ok := first[c.Traceback]; ok {
			if showsCause(c) {
				out[c.ID] = id
			}
			continue
		}
		first[c.Traceback] = c.ID
	}
	return out
}

// showsCause reports whether a failed check's own evidence shows its
// traceback as the cause of its failure: the program ended by itself (not
// stopped by netgrade), so that the traceback is what ended the run the
// check judged; or the check's own message, expected or actual names the
// traceback's line or its exception (a check that read the traceback of
// the very request it judges says so).
func showsCause(c report.Check) bool {
	if c.Exit != "" && !strings.Contains(c.Exit, "netgrade") {
		return true
	}
	own := c.Message + "\n" + c.Expected + "\n" + c.Actual
	if strings.Contains(own, c.Traceback) {
		return true
	}
	exc, _, ok := strings.Cut(c.Traceback, ":")
	if !ok {
		exc = c.Traceback
	}
	exc = strings.TrimSpace(exc)
	if i := strings.LastIndexByte(exc, '.'); i >= 0 {
		exc = exc[i+1:] // a module's exception: json.decoder.JSONDecodeError
	}
	return exc != "" && containsWord(own, exc)
}

// containsWord reports whether s holds w with no letter, digit or
// underscore on either side.
func containsWord(s, w string) bool {
	word := func(b byte) bool {
		return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
	}
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(w)
		if (j == 0 || !word(s[j-1])) && (end == len(s) || !word(s[end])) {
			return true
		}
		i = j + 1
	}
}

// causeLine is how every format words a reference to the check that
// explains a shared cause.
func causeLine(firstID, traceback string) string {
	return "the same as " + firstID + " (" + traceback + "): see its explanation, transcript and hint"
}

// notHandedIn returns why a result marked Missing was not graded: the
// message its checks carry, without the "skipped: " prefix.
func notHandedIn(r report.Result) string {
	for _, c := range r.Checks {
		if c.Message != "" {
			return strings.TrimPrefix(c.Message, "skipped: ")
		}
	}
	return "no file for this exercise"
}

// span is a piece of a course text (a requirement, a hint): plain text, or
// code when the text put it between backticks.
type span struct {
	text string
	code bool
}

// spans splits a course text at its backticks: `PROG 127.0.0.1 PORT hello`
// is code. A backtick without its pair is kept as text.
func spans(s string) []span {
	var out []span
	for {
		i := strings.IndexByte(s, '`')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i+1:], '`')
		if j < 0 {
			break
		}
		if i > 0 {
			out = append(out, span{text: s[:i]})
		}
		out = append(out, span{text: s[i+1 : i+1+j], code: true})
		s = s[i+2+j:]
	}
	if s != "" {
		out = append(out, span{text: s})
	}
	return out
}

// mdMarkup renders a course text as Markdown: its code between backticks
// as code spans, the rest escaped as mdInline does.
func mdMarkup(s string) string {
	var b strings.Builder
	for _, sp := range spans(s) {
		if !sp.code {
			b.WriteString(mdInline(sp.text))
			continue
		}
		code := Terminal(sp.text, false)
		pad := ""
		if strings.HasPrefix(code, " ") || strings.HasSuffix(code, " ") {
			pad = " "
		}
		b.WriteString("`" + pad + code + pad + "`")
	}
	return b.String()
}

// htmlMarkup renders a course text as HTML: its code between backticks in
// <code> elements, everything escaped.
func htmlMarkup(s string) template.HTML {
	var b strings.Builder
	for _, sp := range spans(s) {
		text := template.HTMLEscapeString(Terminal(sp.text, false))
		if sp.code {
			b.WriteString("<code>" + text + "</code>")
			continue
		}
		b.WriteString(text)
	}
	return template.HTML(b.String())
}

// plainMarkup renders a course text as plain text: the backticks around
// its code are dropped.
func plainMarkup(s string) string {
	var b strings.Builder
	for _, sp := range spans(s) {
		b.WriteString(sp.text)
	}
	return Terminal(b.String(), false)
}

// progWord is the PROG of a course text's command line
// ("`PROG [PORT]` starts an HTTP server").
var progWord = regexp.MustCompile(`\bPROG\b`)

// withFileNames returns copies of the results whose requirements name the
// submission's file where the course's texts write PROG: a student reads
// `http-server.py [PORT]`, the command they run. A result with no file (a
// command line, a reference) keeps PROG. The input is not modified.
func withFileNames(results []report.Result) []report.Result {
	out := make([]report.Result, len(results))
	for i, r := range results {
		out[i] = r
		name := path.Base(filepath.ToSlash(r.File))
		if r.File == "" || name == "." || name == "/" {
			continue
		}
		out[i].Checks = make([]report.Check, len(r.Checks))
		for j, c := range r.Checks {
			c.Requirement = progWord.ReplaceAllLiteralString(c.Requirement, name)
			out[i].Checks[j] = c
		}
	}
	return out
}

// firstToFix returns the index of the check a student should fix first:
// the first that failed and that the student can see (a hidden check, as
// ForStudents left it, gives them nothing to act on); -1 when there is
// none.
func firstToFix(r report.Result) int {
	for i, c := range r.Checks {
		if c.Status == report.Fail && !isRedacted(c) {
			return i
		}
	}
	return -1
}
