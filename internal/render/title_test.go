package render

import (
	"bytes"
	"testing"

	"github.com/netgrade/netgrade/internal/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dayTwoResult is an http-server result whose first failing check is
// hidden, whose titles write code between backticks and whose
// requirement names the program PROG.
func dayTwoResult() report.Result {
	r := report.Result{
		Schema: report.Schema, Exercise: "http-server", Title: "HTTP server",
		Submission: "alice/http-server.py", File: "alice/http-server.py",
		Checks: []report.Check{
			{ID: "http-server/starts", Title: "starts", Status: report.Pass, MaxPoints: 2},
			{ID: "http-server/secret", Title: "a check the course hides", Status: report.Fail, MaxPoints: 1,
				Visibility: report.Hidden, Message: "secret"},
			{ID: "http-server/date-paris", Title: "`/date/paris` shows the date and time in Paris", Status: report.Fail, MaxPoints: 2,
				Requirement: "`PROG [PORT]` answers `/date/paris` with Paris's time (PROGRAM and XPROG stay).",
				Message:     "wrong zone"},
		},
	}
	r.Tally()
	return r
}

// Titles show their code as code in HTML and Markdown, requirements name
// the submission's file, and the first check to fix is one a student can
// see.
func TestTitlesRequirementsAndFirstToFix(t *testing.T) {
	for _, tc := range []struct {
		name   string
		render func(*bytes.Buffer, []report.Result) error
		want   []string
		never  []string
	}{
		{"html", func(b *bytes.Buffer, rs []report.Result) error { return HTML(b, rs) },
			[]string{
				`First to fix: <a href="#check-http-server--date-paris"><b>http-server/date-paris</b></a> — <code>/date/paris</code> shows the date and time in Paris</p>`,
				`<td><code>/date/paris</code> shows the date and time in Paris</td>`,
				`<dd><code>http-server.py [PORT]</code> answers <code>/date/paris</code> with Paris&#39;s time (PROGRAM and XPROG stay).</dd>`,
			},
			[]string{"`/date/paris`", "First to fix: <a href=\"#check-http-server--hidden-1\"", "PROG [PORT]"}},
		{"markdown", func(b *bytes.Buffer, rs []report.Result) error { return Markdown(b, rs) },
			[]string{
				"First to fix: **http-server/date-paris** — `/date/paris` shows the date and time in Paris",
				"| ❌ | http-server/date-paris — `/date/paris` shows the date and time in Paris | 0/2 |",
				"### ❌ http-server/date-paris — `/date/paris` shows the date and time in Paris",
				"**Requirement:** `http-server.py [PORT]` answers `/date/paris`",
			},
			[]string{"\\`", "First to fix: **http-server/hidden-1**", "PROG [PORT]"}},
		{"text-student", func(b *bytes.Buffer, rs []report.Result) error { return Text(b, rs, TextOptions{Student: true}) },
			[]string{"First to fix: http-server/date-paris — `/date/paris` shows", "requirement: `http-server.py [PORT]` answers"},
			[]string{"First to fix: http-server/hidden-1", "PROG [PORT]"}},
		{"gradescope", func(b *bytes.Buffer, rs []report.Result) error { return Gradescope(b, rs) },
			[]string{"requirement: http-server.py [PORT] answers /date/paris"}, nil},
	} {
		var b bytes.Buffer
		rs := ForStudents([]report.Result{dayTwoResult()})
		require.NoError(t, tc.render(&b, rs), tc.name)
		for _, w := range tc.want {
			assert.Contains(t, b.String(), w, tc.name)
		}
		for _, n := range tc.never {
			assert.NotContains(t, b.String(), n, tc.name)
		}
	}
	// The data keep the course's text.
	var b bytes.Buffer
	require.NoError(t, JSON(&b, []report.Result{dayTwoResult()}))
	assert.Contains(t, b.String(), "`PROG [PORT]`")

	// Only a hidden check fails: nothing to name first.
	r := dayTwoResult()
	r.Checks = r.Checks[:2]
	assert.Equal(t, -1, firstToFix(ForStudents([]report.Result{r})[0]))
	// An instructor's report (not redacted) names it.
	assert.Equal(t, 1, firstToFix(r))
	// A result with no file (a command, a reference) keeps PROG.
	r = dayTwoResult()
	r.File = ""
	assert.Contains(t, withFileNames([]report.Result{r})[0].Checks[2].Requirement, "`PROG [PORT]`")
}
