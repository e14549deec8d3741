package render

import (
	"fmt"
	"sort"
	"strings"

	"github.com/netgrade/netgrade/internal/report"
)

// HiddenTitle is the title a hidden check shows in a student's report.
const HiddenTitle = "hidden check"

// ForStudents returns copies of the results as a student may read them:
// every check the course hides (report.Check.StudentVisible is false)
// keeps its status and points, so that the score stays the engine's, but
// loses its name and everything it said, and becomes EXERCISE/hidden-N.
// Mentions of a hidden check's ID in other checks (a skip naming the
// prerequisite that failed) are replaced too. The input is not modified.
func ForStudents(results []report.Result) []report.Result {
	out := make([]report.Result, len(results))
	for i, r := range results {
		out[i] = redact(r)
	}
	return out
}

func redact(r report.Result) report.Result {
	aliases := map[string]string{}
	n := 0
	for _, c := range r.Checks {
		if !c.StudentVisible() {
			n++
			aliases[c.ID] = fmt.Sprintf("%s/hidden-%d", r.Exercise, n)
		}
	}
	if n == 0 {
		return r
	}
	// Longest IDs first, so that an ID that is a prefix of another is not
	// replaced inside it.
	ids := make([]string, 0, len(aliases))
	for id := range aliases {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if len(ids[i]) != len(ids[j]) {
			return len(ids[i]) > len(ids[j])
		}
		return ids[i] < ids[j]
	})
	var pairs []string
	for _, id := range ids {
		pairs = append(pairs, id, aliases[id])
	}
	rep := strings.NewReplacer(pairs...)
	checks := make([]report.Check, len(r.Checks))
	for i, c := range r.Checks {
		if alias, hidden := aliases[c.ID]; hidden {
			checks[i] = report.Check{
				ID: alias, Title: HiddenTitle, Category: c.Category, Status: c.Status, NotJudged: c.NotJudged,
				Points: c.Points, MaxPoints: c.MaxPoints, Visibility: c.Visibility,
			}
			continue
		}
		c.Message = rep.Replace(c.Message)
		c.SkippedBecause = rep.Replace(c.SkippedBecause)
		c.Hint = rep.Replace(c.Hint)
		checks[i] = c
	}
	r.Checks = checks
	return r
}

// hiddenNote is what a student's report says in place of the details of a
// check the course hides, so that every format explains it in the same
// words.
const hiddenNote = "Your course hides this check: it counts in your score, but its name and details are not shown."

// isRedacted reports whether c is a hidden check as ForStudents left it:
// not visible to students, titled HiddenTitle and saying nothing. A
// student's report then shows hiddenNote instead of its details.
func isRedacted(c report.Check) bool {
	return !c.StudentVisible() && c.Title == HiddenTitle && c.Message == ""
}

// programLine is how a check's program ended, as every report words it:
// exit, then "traceback ends with: " and traceback, either left out when
// empty; "" when both are. The caller escapes each part for its medium
// before the join, or the whole line after it, whichever it did before:
// escaping the parts apart catches a "::" that starts the traceback.
func programLine(exit, traceback string) string {
	line := exit
	if traceback != "" {
		if line != "" {
			line += "; "
		}
		line += "traceback ends with: " + traceback
	}
	return line
}
