package render

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/internal/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// humanFormats are the formats people read, with what each shows of one
// result as a single string (Gradescope: every test's output).
var humanFormats = map[string]func(w io.Writer, rs []report.Result) error{
	"text":     func(w io.Writer, rs []report.Result) error { return Text(w, rs, TextOptions{TranscriptLines: 100}) },
	"markdown": Markdown,
	"html":     HTML,
	"gradescope": func(w io.Writer, rs []report.Result) error {
		var buf bytes.Buffer
		if err := Gradescope(&buf, rs); err != nil {
			return err
		}
		var g GradescopeResults
		if err := json.Unmarshal(buf.Bytes(), &g); err != nil {
			return err
		}
		io.WriteString(w, g.Output)
		for _, tc := range g.Tests {
			io.WriteString(w, tc.Output)
		}
		return nil
	},
}

// inputResult is a udp-client whose input() on the closed stdin fails
// three checks: one cause.
func inputResult() report.Result {
	tb := "EOFError: EOF when reading a line"
	fail := func(id string) report.Check {
		return report.Check{
			ID: "udp-client/" + id, Title: id, Category: report.Protocol, Status: report.Fail, MaxPoints: 1,
			Message: "no datagram arrived on UDP port 24001", Expected: "one datagram", Actual: "nothing",
			Exit: "exited with status 1", Traceback: tb,
			Hint: "The program reads standard input with input(), which is closed when it is graded",
			Transcript: []report.Event{
				{TimeMS: 0.2, Kind: report.EvStart, Data: "python3 udp-client.py 127.0.0.1 24001 hello"},
				{TimeMS: 30.1, Kind: report.EvStdout, Data: "Message to send: "},
				{TimeMS: 30.4, Kind: report.EvStderr, Data: tb},
				{TimeMS: 35.0, Kind: report.EvExit, Data: "exited with status 1"},
			},
		}
	}
	r := report.Result{Schema: report.Schema, Exercise: "udp-client", Submission: "udp-client.py", Checks: []report.Check{
		fail("sends-message"), fail("spaces"), fail("utf8"),
		{ID: "udp-client/exits", Title: "exits", Category: report.Lifecycle, Status: report.Pass, MaxPoints: 1},
	}}
	r.Tally()
	return r
}

// TestOneCauseOneExplanation: checks that fail from one cause (the same
// traceback) get it explained once, at the first of them; the others say
// they have the same cause and refer to it.
func TestOneCauseOneExplanation(t *testing.T) {
	for name, f := range humanFormats {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, f(&buf, []report.Result{inputResult()}))
			out := buf.String()
			assert.Equal(t, 1, strings.Count(out, "which is closed when it is graded"), "the hint once")
			assert.Equal(t, 1, strings.Count(out, "Message to send"), "the transcript once")
			assert.Equal(t, 2, strings.Count(out, "the same as "), "the two others refer to it")
			assert.Equal(t, 3, strings.Count(out, "no datagram arrived"), "each check says its own problem")
		})
	}
}

// TestCourseTextsAsMarkup: a requirement's and a hint's code between
// backticks become the format's own code (a code span, a <code> element),
// or plain text in Gradescope's text; no backtick or escape shows.
func TestCourseTextsAsMarkup(t *testing.T) {
	r := report.Result{Schema: report.Schema, Exercise: "udp-client", Submission: "udp-client.py", Checks: []report.Check{{
		ID: "udp-client/sends-message", Title: "sends one datagram", Category: report.Protocol, Status: report.Fail, MaxPoints: 3,
		Requirement: "`PROG 127.0.0.1 PORT hello` sends one datagram whose bytes are `hello` to 127.0.0.1:PORT.",
		Message:     "no datagram arrived", Hint: "Receive in a `while True:` loop.",
	}}}
	r.Tally()
	want := map[string][]string{
		"markdown":   {"**Requirement:** `PROG 127.0.0.1 PORT hello` sends one datagram whose bytes are `hello` to 127", "**Hint:** Receive in a `while True:` loop."},
		"html":       {"<dd><code>PROG 127.0.0.1 PORT hello</code> sends one datagram whose bytes are <code>hello</code> to 127.0.0.1:PORT.</dd>", "<code>while True:</code> loop."},
		"gradescope": {"requirement: PROG 127.0.0.1 PORT hello sends one datagram whose bytes are hello to 127.0.0.1:PORT.", "hint:        Receive in a while True: loop."},
	}
	for name, lines := range want {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, humanFormats[name](&buf, []report.Result{r}))
			out := buf.String()
			for _, l := range lines {
				assert.Contains(t, out, l)
			}
			assert.NotContains(t, out, "\\`")
			if name != "markdown" {
				assert.NotContains(t, out, "`")
				assert.NotContains(t, out, `\:`)
			}
		})
	}
}

// TestMissingExerciseIsOneLine: an exercise not handed in is one line
// saying so, not a failure or skip per check.
func TestMissingExerciseIsOneLine(t *testing.T) {
	var checks []report.Check
	for _, id := range []string{"starts", "upper", "strips", "next-client", "usage"} {
		checks = append(checks, report.Check{ID: "tcp-upper/" + id, Title: id, Category: report.Protocol, Status: report.Skip, MaxPoints: 2,
			Message: "skipped: the submission has no tcp-upper.py"})
	}
	missing := report.Result{Schema: report.Schema, Exercise: "tcp-upper", Title: "Upper-case server", Submission: "alice", Missing: true, Checks: checks}
	missing.Tally()
	for name, f := range humanFormats {
		if name == "gradescope" {
			continue // Gradescope lists every test it was told of
		}
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, f(&buf, []report.Result{fixedResults()[1], missing}))
			out := buf.String()
			assert.Contains(t, out, "not handed in")
			assert.Equal(t, 1, strings.Count(out, "the submission has no tcp-upper.py"))
			assert.NotContains(t, out, "tcp-upper/starts")
			assert.NotContains(t, out, "<article")
		})
	}
}

// TestCauseOnlyFromOwnEvidence: a server that raised KeyError on one
// request and answered another with Flask's HTML 405 page shows the
// KeyError as the last traceback of every check; the check that judged
// the 405 is not linked to the KeyError (its own hint shows), while a
// check whose own failure names the exception is.
func TestCauseOnlyFromOwnEvidence(t *testing.T) {
	tb := "KeyError: 'title'"
	stopped := "exited with status 0 after netgrade sent SIGINT"
	checks := []report.Check{
		{ID: "rest-api/validation", Status: report.Fail, Exit: stopped, Traceback: tb,
			Message: "1 of 9 invalid bodies were not rejected: POST /api/todos without \"title\" → 500 Internal Server Error; the program printed KeyError: 'title'",
			Hint:    "check the required fields"},
		{ID: "rest-api/content-type", Status: report.Fail, Exit: stopped, Traceback: tb,
			Message: "answers that are not application/json: Content-Type: text/html (Flask's HTML error page): PUT /api/todos → 405 Method Not Allowed",
			Actual:  "< HTTP/1.1 405 METHOD NOT ALLOWED\n<title>405 Method Not Allowed</title>",
			Hint:    "Flask answers 405 with its own HTML page: give it a JSON errorhandler"},
		{ID: "rest-api/no-server-error", Status: report.Fail, Exit: stopped, Traceback: tb,
			Message: "POST /api/todos → 500 Internal Server Error; the handler raised KeyError"},
		{ID: "rest-api/json", Status: report.Fail, Exit: stopped, Traceback: tb,
			Message: "bodies that are not JSON: MyKeyErrorPage"},
		{ID: "udp-client/utf8", Status: report.Fail, Exit: "exited with status 1", Traceback: tb,
			Message: "no datagram arrived"},
	}
	got := sameCause(report.Result{Checks: checks})
	assert.Equal(t, map[string]string{
		"rest-api/no-server-error": "rest-api/validation",
		"udp-client/utf8":          "rest-api/validation",
	}, got)

	r := report.Result{Schema: report.Schema, Exercise: "rest-api", Submission: "app.py", Checks: checks[:2]}
	r.Tally()
	for name, f := range humanFormats {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, f(&buf, []report.Result{r}))
			out := buf.String()
			assert.NotContains(t, out, "the same as rest-api/validation")
			assert.Contains(t, out, "give it a JSON errorhandler", "the check's own hint shows")
		})
	}
}
