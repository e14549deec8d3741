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
	"github.com/yuin/goldmark"
	mdast "github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
	"golang.org/x/net/html"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
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
	assert.NilError(t, f(&buf, rs))
	return buf.String()
}

func assertNoRawDanger(t *testing.T, name, out string) {
	t.Helper()
	for _, d := range rawDanger {
		assert.Assert(t, !strings.Contains(out, d), "%s output holds %q", name, d)
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
		assert.Equal(t, len(checkLine.FindAllString(out, -1)), 3)
		assert.Assert(t, is.Contains(out, "Score: 2/5"))
		assert.Assert(t, !strings.Contains(out, "All checks passed."))
		assert.Assert(t, is.Contains(out, `\x1b[32m✔ all checks passed\x1b[0m`), "the escape is shown, not obeyed")
		assert.Assert(t, is.Contains(out, `progress 10%\x0dSCORE 12/12`))
		assert.Assert(t, is.Contains(out, `user\u202etxt.exe`))
		assert.Assert(t, is.Contains(out, `#\x23[error]legacy`))
		assert.Assert(t, is.Contains(out, `\x3a:error file=udp-server.py`))
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
	assert.NilError(t, dec.Decode(&back))
	assert.Assert(t, !dec.More(), "one document, not two")
	assert.DeepEqual(t, back, rs[0])
	// <, > and & are \u escapes too: the JSON can be embedded in a page.
	assert.Assert(t, !strings.Contains(out, "<script>"))
}

func TestHostileJUnit(t *testing.T) {
	rs := hostileResults()
	out := render(t, JUnit, rs)
	assertNoRawDanger(t, "junit", out)
	assertNoLogCommand(t, "junit", out, nil)
	// A real JUnit consumer reads exactly the three testcases, with the
	// engine's verdicts, and the printed markup as text.
	suites, err := junit.Ingest([]byte(out))
	assert.NilError(t, err)
	assert.Equal(t, len(suites), 1)
	s := suites[0]
	assert.Equal(t, len(s.Tests), 3)
	assert.Equal(t, s.Tests[0].Status, junit.StatusPassed)
	assert.Equal(t, s.Tests[1].Status, junit.StatusFailed)
	assert.Equal(t, s.Tests[2].Status, junit.StatusFailed)
	assert.Equal(t, s.Totals.Failed, 2)
	assert.Assert(t, is.Contains(s.Tests[1].Error.Error(), "<script>alert(document.cookie)</script>"))
	assert.Assert(t, is.Contains(s.Tests[1].SystemOut, "</failure></testcase><testcase name=\"fake\"/>"))
	assert.Assert(t, is.Contains(s.Tests[1].SystemOut, "]]><![CDATA["))
	// And the strict standard decoder accepts the document.
	var v junitSuites
	assert.NilError(t, xml.Unmarshal([]byte(out), &v))
	assert.Equal(t, len(v.Suites[0].Cases), 3)
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
	assert.NilError(t, err)
	return rawHTML, code, headings
}

func TestHostileMarkdown(t *testing.T) {
	out := render(t, Markdown, hostileResults())
	assertNoRawDanger(t, "markdown", out)
	assertNoLogCommand(t, "markdown", out, nil)
	raw, code, headings := markdownHTML(t, out)
	// The only HTML is netgrade's own <details> around each transcript.
	for _, h := range raw {
		assert.Assert(t, h == "<details><summary>Transcript</summary>" || h == "</details>", "raw HTML from program output: %q", h)
	}
	// Headings: the title, the exercise, the two failing checks.
	assert.Equal(t, headings, 4)
	// The printed text sits inside code blocks, shown as it was printed.
	joined := strings.Join(code, "")
	assert.Assert(t, is.Contains(joined, "<script>alert(document.cookie)</script>"))
	assert.Assert(t, is.Contains(joined, "``` ~~~ | a | b |"))
}

func TestHostileAnnotations(t *testing.T) {
	out := render(t, GitHubAnnotations, hostileResults())
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	// One command per failing check, each on one line.
	assert.Equal(t, len(lines), 2)
	for _, l := range lines {
		assert.Assert(t, strings.HasPrefix(l, "::error file=evil%2Cfile%3Aname.py,title=udp-server/"), l)
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
	assert.Equal(t, len(g.Tests), 3)
	assert.Equal(t, g.Score, 2.0)
	for _, tc := range g.Tests[1:] {
		assert.Equal(t, tc.Status, "failed")
		raw, code, _ := markdownHTML(t, tc.Output)
		assert.Equal(t, len(raw), 0, "raw HTML in a test's output: %q", raw)
		assert.Assert(t, len(code) > 0)
	}
}

func TestHostileHTML(t *testing.T) {
	rs := hostileResults()
	out := render(t, HTML, rs)
	assertNoRawDanger(t, "html", out)
	assertNoLogCommand(t, "html", out, nil)
	doc, err := html.Parse(strings.NewReader(out))
	assert.NilError(t, err)
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
	assert.Equal(t, scripts, 0)
	assert.Equal(t, images, 0)
	assert.Equal(t, articles, 2, "one article per failing check")
	// The markup the program printed is text on the page.
	assert.Assert(t, is.Contains(text.String(), "<script>alert(document.cookie)</script><img src=x onerror=alert(1)>"))
	assert.Assert(t, is.Contains(text.String(), "</failure></testcase>"))
	assert.Assert(t, is.Contains(out, `content="default-src 'none'; style-src 'unsafe-inline'"`))
}
