package render

import (
	"bytes"
	"encoding/json"
	"html"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/internal/report"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// tryResult is a result with one failed check that carries a Try whose
// command holds what a page must escape and a terminal must see verbatim.
func tryResult() report.Result {
	r := report.Result{Schema: report.Schema, Exercise: "udp-server", Submission: "udp-server.py", Checks: []report.Check{
		{ID: "udp-server/utf8", Title: "decodes UTF-8", Category: report.Encoding, Status: report.Fail, MaxPoints: 1,
			Message: "decoded with Latin-1", Try: &report.Try{
				Steps: []report.TryStep{
					{Say: "Start your server", Run: "python3 udp-server.py 5000 < /dev/null", Keep: true},
					{Say: "In another terminal, send datagram 1 (10 bytes)", Run: "printf 'các bạn' | nc -u -w1 127.0.0.1 5000"},
					{Say: "(netgrade sent 3 more datagrams like these)"},
				},
				Look: "read what the server prints for each datagram",
			}},
	}}
	r.Tally()
	return r
}

// TestTryInEveryFormat: the text, Markdown, HTML, Gradescope and JSON
// reports show each step's words and its command as it is to be typed;
// JUnit and the annotations, read by CI systems, are left as they were.
func TestTryInEveryFormat(t *testing.T) {
	r := tryResult()
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			var buf bytes.Buffer
			assert.NilError(t, f.render(&buf, []report.Result{r}))
			out := buf.String()
			switch {
			case f.name == "json":
				var got report.Result
				assert.NilError(t, json.Unmarshal(buf.Bytes(), &got))
				assert.DeepEqual(t, got.Checks[0].Try, r.Checks[0].Try)
				return
			case f.name == "html":
				out = html.UnescapeString(out)
			case f.name == "gradescope":
				var g GradescopeResults
				assert.NilError(t, json.Unmarshal(buf.Bytes(), &g))
				out = g.Tests[0].Output
			case !strings.HasPrefix(f.name, "text") && f.name != "markdown":
				return
			}
			for _, want := range []string{
				"python3 udp-server.py 5000 < /dev/null",
				"printf 'các bạn' | nc -u -w1 127.0.0.1 5000",
				"In another terminal, send datagram 1 (10 bytes)",
				"netgrade sent 3 more datagrams",
				"read what the server prints for each datagram",
				"Ctrl-C stops it",
			} {
				assert.Check(t, is.Contains(out, want), f.name)
			}
		})
	}
}

// TestTryNotForHiddenChecks: a hidden check's Try, were one set, never
// reaches a student's report.
func TestTryNotForHiddenChecks(t *testing.T) {
	r := tryResult()
	r.Checks[0].Visibility = report.Hidden
	var buf bytes.Buffer
	assert.NilError(t, HTML(&buf, []report.Result{r}))
	assert.Check(t, !strings.Contains(buf.String(), "nc -u"))
	buf.Reset()
	assert.NilError(t, Text(&buf, []report.Result{r}, TextOptions{Student: true}))
	assert.Check(t, !strings.Contains(buf.String(), "nc -u"))
}
