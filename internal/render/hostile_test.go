package render

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"regexp"
	"strings"
	"testing"

	junit "github.com/joshdk/go-junit"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/stretchr/testify/require"
	"github.com/yuin/goldmark"
	mdast "github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
	"golang.org/x/net/html"
)

// The tests of this file show that what a program prints cannot change a
// report's structure or verdict in any format, and reaches the reader as
// visible text.

// rawDanger are byte sequences that must never appear in any output:
// terminal control (ESC, CR, NUL, BEL, BS), a bidi override, and GitHub's
// legacy log command, which the runner finds anywhere in a line.
var rawDanger = []string{"\x1b", "\r", "\x00", "\x07", "\x08", "\u202e", "##["}

// assertNoLogCommand fails when a line of out, spaces aside, starts with
// "::", which GitHub's runner reads as a workflow command.
func assertNoLogCommand(t *testing.T, name, out string, allowed func(string) bool) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, " \t"), "::") && (allowed == nil || !allowed(l)) {
			t.Errorf("%s: a line reads as a CI log command: %q", name, l)
		}
	}
}

func render(t *testing.T, f func(io.Writer, []report.Result) error, rs []report.Result) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, f(&buf, rs))
	return buf.String()
}

func assertNoRawDanger(t *testing.T, name, out string) {
	t.Helper()
	for _, d := range rawDanger {
		require.NotContains(t, out, d, "%s output holds %q", name, d)
	}
}

func TestHostileText(t *testing.T) {
	for _, student := range []bool{false, true} {
		out := render(t, func(w io.Writer, rs []report.Result) error {
			return Text(w, rs, TextOptions{Student: student})
		}, hostileResults())
		assertNoRawDanger(t, "text", out)
		assertNoLogCommand(t, "text", out, nil)
		// The fake verdict is shown, as data, only inside transcript and
		// got lines: the report's own check lines are exactly the three
		// checks, and the verdict is the engine's.
		checkLine := regexp.MustCompile(`(?m)^  [✔✘–!] udp-server/`)
		require.Equal(t, 3, len(checkLine.FindAllString(out, -1)))
		require.Contains(t, out, "Score: 2/5")
		require.NotContains(t, out, "All checks passed.")
		require.Contains(t, out, `\x1b[32m✔ all checks passed\x1b[0m`, "the escape is shown, not obeyed")
		require.Contains(t, out, `progress 10%\x0dSCORE 12/12`)
		require.Contains(t, out, `user\u202etxt.exe`)
		require.Contains(t, out, `#\x23[error]legacy`)
		require.Contains(t, out, `\x3a:error file=udp-server.py`)
	}
}

func TestHostileJSON(t *testing.T) {
	rs := hostileResults()
	out := render(t, JSON, rs)
	assertNoRawDanger(t, "json", out)
	assertNoLogCommand(t, "json", out, nil)
	// The document decodes to exactly the result: nothing printed changed
	// its structure, and every string comes back byte for byte.
	var back report.Result
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&back))
	require.False(t, dec.More(), "one document, not two")
	require.Equal(t, rs[0], back)
	// <, > and & are \u escapes too: the JSON can be embedded in a page.
	require.NotContains(t, out, "<script>")
}

func TestHostileJUnit(t *testing.T) {
	rs := hostileResults()
	out := render(t, JUnit, rs)
	assertNoRawDanger(t, "junit", out)
	assertNoLogCommand(t, "junit", out, nil)
	// A real JUnit consumer reads exactly the three testcases, with the
	// engine's verdicts, and the printed markup as text.
	suites, err := junit.Ingest([]byte(out))
	require.NoError(t, err)
	require.Equal(t, 1, len(suites))
	s := suites[0]
	require.Equal(t, 3, len(s.Tests))
	require.Equal(t, junit.StatusPassed, s.Tests[0].Status)
	require.Equal(t, junit.StatusFailed, s.Tests[1].Status)
	require.Equal(t, junit.StatusFailed, s.Tests[2].Status)
	require.Equal(t, 2, s.Totals.Failed)
	require.Contains(t, s.Tests[1].Error.Error(), "<script>alert(document.cookie)</script>")
	require.Contains(t, s.Tests[1].SystemOut, "</failure></testcase><testcase name=\"fake\"/>")
	require.Contains(t, s.Tests[1].SystemOut, "]]><![CDATA[")
	// And the strict standard decoder accepts the document.
	var v junitSuites
	require.NoError(t, xml.Unmarshal([]byte(out), &v))
	require.Equal(t, 3, len(v.Suites[0].Cases))
}

// markdownHTML parses Markdown as GitHub and Gradescope do (CommonMark)
// and returns the raw HTML it holds, inline and in blocks, and the text
// of its code blocks.
func markdownHTML(t *testing.T, src string) (rawHTML []string, code []string, headings int) {
	t.Helper()
	b := []byte(src)
	doc := goldmark.New().Parser().Parse(text.NewReader(b))
	err := mdast.Walk(doc, func(n mdast.Node, entering bool) (mdast.WalkStatus, error) {
		if !entering {
			return mdast.WalkContinue, nil
		}
		switch v := n.(type) {
		case *mdast.HTMLBlock:
			var s strings.Builder
			for i := 0; i < v.Lines().Len(); i++ {
				seg := v.Lines().At(i)
				s.Write(seg.Value(b))
			}
			rawHTML = append(rawHTML, strings.TrimSpace(s.String()))
		case *mdast.RawHTML:
			for i := 0; i < v.Segments.Len(); i++ {
				seg := v.Segments.At(i)
				rawHTML = append(rawHTML, string(seg.Value(b)))
			}
		case *mdast.FencedCodeBlock:
			var s strings.Builder
			for i := 0; i < v.Lines().Len(); i++ {
				seg := v.Lines().At(i)
				s.Write(seg.Value(b))
			}
			code = append(code, s.String())
		case *mdast.AutoLink, *mdast.Link:
			t.Errorf("the Markdown holds a link made of program output")
		case *mdast.Heading:
			headings++
		}
		return mdast.WalkContinue, nil
	})
	require.NoError(t, err)
	return rawHTML, code, headings
}

func TestHostileMarkdown(t *testing.T) {
	out := render(t, Markdown, hostileResults())
	assertNoRawDanger(t, "markdown", out)
	assertNoLogCommand(t, "markdown", out, nil)
	raw, code, headings := markdownHTML(t, out)
	// The only HTML is netgrade's own <details> around each transcript.
	for _, h := range raw {
		require.True(t, h == "<details><summary>Transcript</summary>" || h == "</details>", "raw HTML from program output: %q", h)
	}
	// Headings: the title, the exercise, the two failing checks.
	require.Equal(t, 4, headings)
	// The printed text sits inside code blocks, shown as it was printed.
	joined := strings.Join(code, "")
	require.Contains(t, joined, "<script>alert(document.cookie)</script>")
	require.Contains(t, joined, "``` ~~~ | a | b |")
}

func TestHostileAnnotations(t *testing.T) {
	out := render(t, GitHubAnnotations, hostileResults())
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	// One command per failing check, each on one line.
	require.Equal(t, 2, len(lines))
	for _, l := range lines {
		require.True(t, strings.HasPrefix(l, "::error file=evil%2Cfile%3Aname.py,title=udp-server/"), l)
		// The message is everything after the second "::": the printed
		// "::error" inside it is data, and no "%0A::" can start a line
		// once the runner unescapes it (Terminal broke it first).
		_, msg, _ := strings.Cut(strings.TrimPrefix(l, "::"), "::")
		unescaped := strings.NewReplacer("%0A", "\n", "%0D", "\r", "%25", "%").Replace(msg)
		assertNoLogCommand(t, "annotation message", unescaped, nil)
		assertNoRawDanger(t, "annotation", unescaped)
	}
}

func TestHostileGradescope(t *testing.T) {
	out := render(t, Gradescope, hostileResults())
	assertNoRawDanger(t, "gradescope", out)
	g := checkGradescopeSpec(t, []byte(out))
	require.Equal(t, 3, len(g.Tests))
	require.Equal(t, 2.0, g.Score)
	for _, tc := range g.Tests[1:] {
		require.Equal(t, "failed", tc.Status)
		// Plain text, which Gradescope shows as text: the printed markup
		// is there as the characters printed.
		require.Equal(t, "text", tc.OutputFormat)
		require.Contains(t, tc.Output, "got:")
		assertNoLogCommand(t, "gradescope test output", tc.Output, nil)
	}
	require.Contains(t, g.Tests[1].Output, "<script>alert(document.cookie)</script>")
}

func TestHostileHTML(t *testing.T) {
	rs := hostileResults()
	out := render(t, HTML, rs)
	assertNoRawDanger(t, "html", out)
	assertNoLogCommand(t, "html", out, nil)
	doc, err := html.Parse(strings.NewReader(out))
	require.NoError(t, err)
	var articles, scripts, images int
	var text strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script":
				scripts++
			case "img":
				images++
			case "article":
				articles++
			}
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "on") || strings.Contains(a.Val, "javascript:") {
					t.Errorf("attribute %s=%q on <%s>", a.Key, a.Val, n.Data)
				}
				if (a.Key == "src" || a.Key == "href") && !strings.HasPrefix(a.Val, "#") {
					t.Errorf("external resource %s=%q on <%s>", a.Key, a.Val, n.Data)
				}
			}
		}
		if n.Type == html.TextNode {
			text.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	require.Equal(t, 0, scripts)
	require.Equal(t, 0, images)
	require.Equal(t, 2, articles, "one article per failing check")
	// The markup the program printed is text on the page.
	require.Contains(t, text.String(), "<script>alert(document.cookie)</script><img src=x onerror=alert(1)>")
	require.Contains(t, text.String(), "</failure></testcase>")
	require.Contains(t, out, `content="default-src 'none'; style-src 'unsafe-inline'"`)
}
