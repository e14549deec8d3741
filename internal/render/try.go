package render

import (
	"fmt"
	"strings"

	"github.com/netgrade/netgrade/internal/report"
)

// tryTitle heads a check's "try it yourself" commands in every report.
const tryTitle = "Try it yourself"

// tryScript is a check's Try as a shell script a student reads and
// pastes from: each step a comment saying what it does, then its
// command; a command that keeps running says so; the script ends with
// what to look for. Empty when the check has no Try.
func tryScript(try *report.Try) string {
	if try == nil || len(try.Steps) == 0 {
		return ""
	}
	var b strings.Builder
	n := 0
	for _, s := range try.Steps {
		if s.Run == "" {
			fmt.Fprintf(&b, "# %s\n", s.Say)
			continue
		}
		n++
		keep := ""
		if s.Keep {
			keep = " (it keeps running; Ctrl-C stops it)"
		}
		fmt.Fprintf(&b, "# %d. %s%s:\n%s\n", n, s.Say, keep, s.Run)
	}
	if try.Look != "" {
		fmt.Fprintf(&b, "# Then %s.\n", try.Look)
	}
	return b.String()
}

// try writes a check's Try under its details, indented, without colour:
// the commands are meant to be copied.
func (t *textWriter) try(c report.Check) {
	script := tryScript(c.Try)
	if script == "" {
		return
	}
	t.printf("    %s\n", strings.ToLower(tryTitle)+":")
	for _, l := range strings.Split(strings.TrimRight(Terminal(script, true), "\n"), "\n") {
		t.printf("      %s\n", l)
	}
}

// mdTry is a check's Try as Markdown: a shell block.
func mdTry(c report.Check) string {
	script := tryScript(c.Try)
	if script == "" {
		return ""
	}
	return "**" + tryTitle + ":**\n\n" + mdBlock(script, "sh") + "\n"
}
