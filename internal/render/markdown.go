package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/netgrade/netgrade/internal/report"
)

// mdEscaped are the ASCII punctuation characters that mdInline escapes
// with a backslash (CommonMark allows the escape before any of them): all
// that can start emphasis, code, a link, an autolink, raw HTML, an entity
// or a table cell. '-' and '.' only matter at the start of a line, where
// inline text never goes.
const mdEscaped = "\\`*_[]<>()#+!|&~:@"

// mdInline makes text safe inside a Markdown paragraph or table cell: it
// stays on one line (Terminal) and every character that Markdown or HTML
// would read as markup is backslash-escaped, so that a program's output
// renders as the characters it printed.
func mdInline(s string) string {
	s = Terminal(s, false)
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 && strings.ContainsRune(mdEscaped, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdBlock returns text as a fenced code block whose fence is longer than
// any run of backticks in the text, so that nothing in it can close the
// block; nothing inside a code block is markup.
func mdBlock(s, lang string) string {
	s = Terminal(strings.TrimRight(s, "\n"), true)
	fence := strings.Repeat("`", max(3, longestRun(s, '`')+1))
	return fence + lang + "\n" + s + "\n" + fence + "\n"
}

func longestRun(s string, c byte) int {
	best, cur := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			cur++
			best = max(best, cur)
		} else {
			cur = 0
		}
	}
	return best
}

// mdDiff shows expected and actual as the lines of a diff block.
func mdDiff(expected, actual string) string {
	var b strings.Builder
	for _, l := range strings.Split(expected, "\n") {
		b.WriteString("- " + l + "\n")
	}
	for _, l := range strings.Split(actual, "\n") {
		b.WriteString("+ " + l + "\n")
	}
	return mdBlock(b.String(), "diff")
}

var statusEmoji = map[report.Status]string{
	report.Pass: "✅", report.Fail: "❌", report.Skip: "⏭️", report.Error: "⚠️",
}

// unjudgedEmoji marks a check left out of the score.
const unjudgedEmoji = "❔"

// emojiOf is the mark of a check: its status's, or unjudgedEmoji.
func emojiOf(c report.Check) string {
	if c.Unjudged() {
		return unjudgedEmoji
	}
	return statusEmoji[c.Status]
}

// checkMarkdown explains a check that did not pass: the problem, expected
// and got as a diff, how the program ended, the hint and the transcript
// (in a <details> element when details is true). When an earlier check
// (sameAs) failed from the same cause, it refers to it instead of
// repeating how the program ended, the hint and the transcript.
func checkMarkdown(c report.Check, details bool, sameAs string) string {
	var b strings.Builder
	if isRedacted(c) {
		return hiddenNote + "\n"
	}
	if c.Status == report.Skip {
		fmt.Fprintf(&b, "%s\n", mdInline(c.Message))
		return b.String()
	}
	fmt.Fprintf(&b, "**Problem:** %s\n\n", mdInline(c.Message))
	if c.Requirement != "" {
		fmt.Fprintf(&b, "**Requirement:** %s\n\n", mdMarkup(c.Requirement))
	}
	if c.Expected != "" || c.Actual != "" {
		b.WriteString("**Expected** (`-`) and **got** (`+`):\n\n")
		b.WriteString(mdDiff(c.Expected, c.Actual))
		b.WriteString("\n")
	}
	if sameAs != "" {
		fmt.Fprintf(&b, "**Cause:** %s\n\n", mdInline(causeLine(sameAs, c.Traceback)))
		b.WriteString(mdTry(c))
		return b.String()
	}
	if prog := programLine(c.Exit, c.Traceback); prog != "" {
		fmt.Fprintf(&b, "**Program:** %s\n\n", mdInline(prog))
	}
	b.WriteString(mdNotes(c))
	if c.Hint != "" {
		fmt.Fprintf(&b, "**Hint:** %s\n\n", mdMarkup(c.Hint))
	}
	b.WriteString(mdTry(c))
	if len(c.Transcript) > 0 {
		var tr strings.Builder
		for _, e := range c.Transcript {
			fmt.Fprintf(&tr, "%+9.1fms  %s\n", e.TimeMS, eventBlock(e, transcriptIndent))
		}
		if details {
			b.WriteString("<details><summary>Transcript</summary>\n\n")
			b.WriteString(mdBlock(tr.String(), "text"))
			b.WriteString("\n</details>\n")
		} else {
			b.WriteString("**Transcript:**\n\n")
			b.WriteString(mdBlock(tr.String(), "text"))
		}
	}
	return b.String()
}

// mdNotes is a check's notes as Markdown, one paragraph each.
func mdNotes(c report.Check) string {
	var b strings.Builder
	for _, n := range c.Notes {
		fmt.Fprintf(&b, "**Note:** %s\n\n", mdInline(n))
	}
	return b.String()
}

// Markdown writes the results as a Markdown summary for GitHub's job
// summary (and any Markdown reader): the total, then per exercise its
// score, a table of its checks and, for every check that did not pass,
// the first failing one first, what went wrong. It is a student-facing
// report: checks the course hides are not named (see ForStudents).
func Markdown(w io.Writer, results []report.Result) error {
	results = ForStudents(readable(results))
	var b strings.Builder
	score, maxScore := report.Total(results)
	passed := 0
	for _, r := range results {
		if r.Passed() {
			passed++
		}
	}
	b.WriteString("# netgrade report\n\n")
	fmt.Fprintf(&b, "**Total: %s/%s** · %d of %d exercises pass\n", Num(score), Num(maxScore), passed, len(results))
	for _, r := range results {
		mark := statusEmoji[report.Pass]
		if !r.Passed() {
			mark = statusEmoji[report.Fail]
		}
		title := r.Exercise
		if r.Title != "" {
			title += " — " + r.Title
		}
		if r.Missing {
			fmt.Fprintf(&b, "\n## %s %s: not handed in (%s/%s)\n\n", statusEmoji[report.Skip], mdInline(title), Num(r.Score), Num(r.MaxScore))
			fmt.Fprintf(&b, "%s\n", mdInline(notHandedIn(r)))
			continue
		}
		fmt.Fprintf(&b, "\n## %s %s: %s/%s\n\n", mark, mdInline(title), Num(r.Score), Num(r.MaxScore))
		fmt.Fprintf(&b, "Submission: %s\n\n", mdInline(r.Submission))
		if i := firstToFix(r); i >= 0 {
			c := r.Checks[i]
			fmt.Fprintf(&b, "First to fix: **%s** — %s\n\n", mdInline(c.ID), mdMarkup(c.Title))
		}
		b.WriteString("| | Check | Points |\n|:-:|---|--:|\n")
		for _, c := range r.Checks {
			pts := Num(c.Points) + "/" + Num(c.MaxPoints)
			switch {
			case c.Unjudged():
				pts = "not judged (left out of the score)"
			case c.Status == report.Skip:
				pts = "skipped"
			case c.Status == report.Error:
				pts = "netgrade error"
			}
			fmt.Fprintf(&b, "| %s | %s — %s | %s |\n", emojiOf(c), mdInline(c.ID), mdMarkup(c.Title), pts)
		}
		same := sameCause(r)
		var notes []string
		for _, c := range r.Checks {
			for _, n := range c.Notes {
				notes = append(notes, fmt.Sprintf("- %s: %s\n", mdInline(c.ID), mdInline(n)))
			}
		}
		if len(notes) > 0 {
			b.WriteString("\nNotes:\n\n" + strings.Join(notes, ""))
		}
		b.WriteString(mdWire(r))
		for _, c := range r.Checks {
			switch c.Status {
			case report.Fail:
				fmt.Fprintf(&b, "\n### %s %s — %s\n\n", statusEmoji[c.Status], mdInline(c.ID), mdMarkup(c.Title))
				b.WriteString(checkMarkdown(c, true, same[c.ID]))
			case report.Error:
				fmt.Fprintf(&b, "\n### %s %s — %s\n\n", statusEmoji[c.Status], mdInline(c.ID), mdMarkup(c.Title))
				fmt.Fprintf(&b, "%s (not charged to you)\n", mdInline(c.Message))
			case report.Skip:
				if c.Unjudged() && !isRedacted(c) {
					fmt.Fprintf(&b, "\n### %s %s — %s\n\n", unjudgedEmoji, mdInline(c.ID), mdMarkup(c.Title))
					fmt.Fprintf(&b, "%s (left out of the score)\n", mdInline(c.Message))
				}
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// GitHubAnnotations writes a GitHub Actions workflow command for every
// check that did not pass: ::error with the student's file and the check
// as title for a failure, ::warning for netgrade's own error. Properties
// and message are escaped as the runner unescapes them (%, CR, LF; and
// ':' and ',' in properties), after Terminal, so that a program's output
// cannot end the command or start another. Hidden checks are not named.
func GitHubAnnotations(w io.Writer, results []report.Result) error {
	var b strings.Builder
	for _, r := range ForStudents(results) {
		for _, c := range r.Checks {
			var kind, msg string
			switch c.Status {
			case report.Fail:
				kind = "error"
				msg = c.Message
				if c.Expected != "" || c.Actual != "" {
					msg += "\nexpected: " + c.Expected + "\ngot:      " + c.Actual
				}
				if c.Hint != "" {
					msg += "\nhint: " + c.Hint
				}
				if msg == "" {
					msg = "Your course hides this check: it counts in your score, but its details are not shown."
				}
			case report.Error:
				kind = "warning"
				msg = c.Message + " (not charged to you)"
			default:
				continue
			}
			props := []string{}
			if r.File != "" {
				props = append(props, "file="+ghProperty(r.File))
			}
			props = append(props, "title="+ghProperty(c.ID+" — "+c.Title))
			fmt.Fprintf(&b, "::%s %s::%s\n", kind, strings.Join(props, ","), ghData(msg))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ghData escapes a workflow command's message.
func ghData(s string) string {
	s = Terminal(s, true)
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value.
func ghProperty(s string) string {
	s = Terminal(s, false)
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
