package render

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	junit "github.com/joshdk/go-junit"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

// fuzzResults is one graded program whose output is stdout, stderr and
// wire (what it sent over a socket), in every place a report shows what a
// program did: the transcript (printed lines, a datagram, an HTTP
// response), a failure's got text, its traceback, notes. Its structure is
// fixed: three checks, one passed and two failed, 2 points of 5.
func fuzzResults(stdout, stderr, wire string) []report.Result {
	evs := []report.Event{
		{TimeMS: 1, Kind: report.EvStdout, Data: stdout},
		{TimeMS: 2, Kind: report.EvStderr, Data: stderr},
		{TimeMS: 3, Kind: report.EvRecv, Proto: "udp", From: "127.0.0.1:1", To: "127.0.0.1:2", Data: wire, Bytes: len(wire)},
		{TimeMS: 4, Kind: report.EvHTTPResponse, Proto: "tcp", Data: wire, Bytes: len(wire), HTTP: &report.HTTPMessage{
			Line: stdout, Version: "HTTP/1.0", Status: 200, Reason: stderr,
			Headers:  []report.Header{{Name: stdout, Value: wire}},
			Problems: []string{stderr},
		}},
	}
	r := report.Result{
		Schema: report.Schema, Exercise: "udp-server", Title: "UDP server",
		Submission: "server.py", File: "server.py",
		StartedAt: start, DurationMS: 100, Version: "0.1.0",
		Checks: []report.Check{
			{ID: "udp-server/starts", Title: "starts", Category: report.Start, Status: report.Pass, MaxPoints: 2, Transcript: evs, Notes: []string{stdout}},
			{
				ID: "udp-server/log-format", Title: "logs a datagram in the course's format",
				Category: report.Format, Status: report.Fail, MaxPoints: 2,
				Message:  "the log line is not in the course's format: " + stdout,
				Expected: `[2026-03-14 10:26:53,655] client 127.0.0.1 sent "hello"`,
				Actual:   stdout, Traceback: stderr, Exit: "exited with status 1",
				Hint: "Format the line as the course says.", Transcript: evs,
			},
			{
				ID: "udp-server/verbatim", Title: "logs the message verbatim",
				Category: report.Format, Status: report.Fail, MaxPoints: 1,
				Message: "the log line does not hold the message as it was sent", Expected: "a line holding hello",
				Actual: wire, Transcript: evs,
			},
		},
	}
	r.Tally()
	return []report.Result{r}
}

// renderFuzz renders with f, which must not fail.
func renderFuzz(t testing.TB, f func(io.Writer, []report.Result) error, rs []report.Result) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, f(&buf, rs))
	return buf.String()
}

// htmlShape returns the elements of an HTML page and, by element, the
// attributes it carries, as a tokenizer reads them (a browser's view,
// before any tree repair).
func htmlShape(t *testing.T, page string) (elements map[string]int, attrs map[string]bool) {
	t.Helper()
	elements, attrs = map[string]int{}, map[string]bool{}
	z := html.NewTokenizer(strings.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			require.ErrorIs(t, z.Err(), io.EOF)
			return elements, attrs
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			elements[tok.Data]++
			for _, a := range tok.Attr {
				attrs[tok.Data+" "+a.Key] = true
			}
		}
	}
}

var checkLineRE = regexp.MustCompile(`(?m)^  [✔✘–!] udp-server/`)

// FuzzRender renders a report of a program that printed and sent any
// bytes at all, in every format. Whatever it printed, each output is
// valid in its format and has the report's structure, not the program's:
// the text report has its three check lines and no terminal control; the
// Markdown no HTML but netgrade's; the HTML page no element and no
// attribute that a report of a well-behaved program does not have; the
// JUnit XML parses, strictly and as a CI reads it, to the three test
// cases; the JSON and the Gradescope JSON parse, to the same result.
func FuzzRender(f *testing.F) {
	for _, h := range hostile {
		f.Add(h, h, h)
	}
	f.Add("Started server on UDP/9999\n[2026-03-14 10:26:53,655] client 127.0.0.1 sent \"hello\"\n",
		"Traceback (most recent call last):\n  File \"server.py\", line 4, in <module>\n    s.bind((\"\", int(sys.argv[1])))\nIndexError: list index out of range\n",
		"HTTP/1.0 200 OK\r\nContent-type: text/html\r\n\r\n<html><body><p>2026-03-14</p></body></html>")
	f.Add("]]>]]><![CDATA[", "--></details><details open>", "\xff\xfe\xc3")
	f.Add("</pre></article><article>", "```\n# Score: 5/5\n```", "<!-- -->&amp;&#0;&#x110000;")
	benign := renderFuzz(f, HTML, fuzzResults("hello", "world", "hi"))
	f.Fuzz(func(t *testing.T, stdout, stderr, wire string) {
		rs := fuzzResults(stdout, stderr, wire)

		for _, student := range []bool{false, true} {
			out := renderFuzz(t, func(w io.Writer, rs []report.Result) error {
				return Text(w, rs, TextOptions{Student: student})
			}, rs)
			assertNoRawDanger(t, "text", out)
			require.True(t, utf8.ValidString(out), "the text report is UTF-8")
			require.Len(t, checkLineRE.FindAllString(out, -1), 3, "three check lines:\n%s", out)
			require.Contains(t, out, "Score: 2/5")
		}

		md := renderFuzz(t, Markdown, rs)
		assertNoRawDanger(t, "markdown", md)
		raw, _, headings := markdownHTML(t, md)
		for _, h := range raw {
			require.True(t, h == "<details><summary>Transcript</summary>" || h == "</details>", "raw HTML from program output: %q", h)
		}
		require.Equal(t, 4, headings, "the title, the exercise, the two failing checks")

		page := renderFuzz(t, HTML, rs)
		assertNoRawDanger(t, "html", page)
		want, wantAttrs := htmlShape(t, benign)
		got, gotAttrs := htmlShape(t, page)
		for el := range got {
			require.Contains(t, want, el, "element <%s> from program output", el)
		}
		for a := range gotAttrs {
			require.True(t, wantAttrs[a], "attribute %q from program output", a)
		}
		for _, el := range []string{"script", "style", "article", "details", "meta", "link", "img", "iframe"} {
			require.Equal(t, want[el], got[el], "<%s> elements", el)
		}

		xmlOut := renderFuzz(t, JUnit, rs)
		assertNoRawDanger(t, "junit", xmlOut)
		dec := xml.NewDecoder(strings.NewReader(xmlOut))
		for {
			_, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, "the JUnit XML parses")
		}
		var v junitSuites
		require.NoError(t, xml.Unmarshal([]byte(xmlOut), &v))
		require.Len(t, v.Suites, 1)
		require.Len(t, v.Suites[0].Cases, 3)
		suites, err := junit.Ingest([]byte(xmlOut))
		require.NoError(t, err)
		require.Len(t, suites, 1)
		require.Equal(t, 2, suites[0].Totals.Failed)

		js := renderFuzz(t, JSON, rs)
		var back report.Result
		jd := json.NewDecoder(strings.NewReader(js))
		jd.DisallowUnknownFields()
		require.NoError(t, jd.Decode(&back), "the JSON parses")
		require.False(t, jd.More(), "one document")
		require.Len(t, back.Checks, 3)
		if utf8.ValidString(stdout + stderr + wire) {
			require.Equal(t, rs[0], back, "every string comes back as it was")
		}

		gs := renderFuzz(t, Gradescope, rs)
		g := checkGradescopeSpec(t, []byte(gs))
		require.Len(t, g.Tests, 3)
		require.Equal(t, 2.0, g.Score)
	})
}
