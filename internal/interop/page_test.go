package interop_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/interop"
	"github.com/netgrade/netgrade/internal/sandbox/sandboxtest"
	"golang.org/x/net/html"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// synthMatrices are matrices of n students made up without running
// anything, one cell of which holds hostile output.
func synthMatrices(n int) []*interop.Matrix {
	var ms []*interop.Matrix
	verdicts := []interop.Verdict{interop.Green, interop.Amber, interop.Red, interop.Grey}
	for _, p := range interop.Pairs() {
		m := &interop.Matrix{Pair: p, Clients: []string{interop.RefKey}, Servers: []string{interop.RefKey}}
		for i := range n {
			m.Clients = append(m.Clients, fmt.Sprintf("s%02d", i))
			m.Servers = append(m.Servers, fmt.Sprintf("s%02d", i))
		}
		for i, c := range m.Clients {
			for j, s := range m.Servers {
				if i == 0 && j == 0 {
					continue
				}
				v := verdicts[(i*7+j*3)%len(verdicts)]
				cell := &interop.Cell{Client: c, Server: s, Outcome: interop.Outcome{Verdict: v, Reason: "reason " + string(v),
					Wire: []string{"+0.001s client → server, 3 bytes: \"abc\""}, ClientLog: []string{"exited with status 0"},
					ServerLog: []string{"+0.002s stdout: <img src=x onerror=alert(1)> \x1b[31mred\x1b[0m", "stopped by netgrade with SIGINT"}}}
				if v == interop.Amber {
					cell.Diagnosis = "latin1-client"
				}
				m.Cells = append(m.Cells, cell)
			}
		}
		ms = append(ms, m)
	}
	return ms
}

// findChromium returns Debian's chromium, or skips (fails when
// NETGRADE_REQUIRE_CHROMIUM=1).
func findChromium(t *testing.T) string {
	t.Helper()
	var err error
	for _, name := range []string{os.Getenv("NETGRADE_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		var p string
		if p, err = exec.LookPath(name); err == nil {
			return p
		}
	}
	sandboxtest.Require(t, "chromium", fmt.Errorf("no chromium on PATH (apt-get install chromium): %w", err))
	return ""
}

// TestPageInChromium opens interop.html in headless Chromium, from a file
// (no server): a matrix per pair with a cell per client and server, each
// cell a link to its details, which the link opens; a program's output is
// text, never markup; nothing is fetched.
func TestPageInChromium(t *testing.T) {
	chrome := findChromium(t)
	ms := synthMatrices(5)
	out := t.TempDir()
	assert.NilError(t, interop.WriteFiles(out, ms, interop.Summarize("netns", ms, nil), "test"))
	page := filepath.Join(out, interop.HTMLFile)
	src, err := os.ReadFile(page)
	assert.NilError(t, err)
	doc, err := html.Parse(bytes.NewReader(src))
	assert.NilError(t, err)
	for _, n := range nodes(doc, func(n *html.Node) bool { return n.Type == html.ElementNode }) {
		for _, a := range n.Attr {
			if a.Key == "src" || (a.Key == "href" && n.Data == "link") {
				t.Errorf("the page loads %s=%q", a.Key, a.Val)
			}
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	target := "c-udp-client--udp-server-7"
	cmd := exec.CommandContext(ctx, chrome, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--no-first-run", "--user-data-dir="+t.TempDir(), "--dump-dom", "file://"+page+"#"+target)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	assert.NilError(t, err, stderr.String())
	ddoc, err := html.Parse(bytes.NewReader(dom))
	assert.NilError(t, err)
	tables := nodes(ddoc, hasClass("table", "matrix"))
	assert.Assert(t, is.Len(tables, 3), "a matrix per pair")
	for i, tb := range tables {
		cells := nodes(tb, hasClass("td", "cell"))
		assert.Equal(t, len(cells), len(ms[i].Cells), "a cell per client and server")
		for _, c := range cells {
			links := nodes(c, func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == "a" })
			assert.Assert(t, is.Len(links, 1))
			href := attr(links[0], "href")
			assert.Assert(t, nodeByID(ddoc, strings.TrimPrefix(href, "#")) != nil, "the cell's details %s exist", href)
		}
	}
	opened := nodeByID(ddoc, target)
	assert.Assert(t, opened != nil)
	_, isOpen := attrOK(opened, "open")
	assert.Assert(t, isOpen, "the cell's link opens its details")
	assert.Assert(t, is.Len(nodes(ddoc, func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == "img" }), 0), "a program's output never becomes markup")
	assert.Assert(t, is.Contains(string(dom), `&lt;img src=x onerror=alert(1)&gt; \x1b[31mred\x1b[0m`), "output shown as text, escapes neutralised")
}

func nodes(root *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return out
}

func hasClass(tag, class string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		if n.Type != html.ElementNode || n.Data != tag {
			return false
		}
		for _, c := range strings.Fields(attr(n, "class")) {
			if c == class {
				return true
			}
		}
		return false
	}
}

func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func nodeByID(root *html.Node, id string) *html.Node {
	found := nodes(root, func(n *html.Node) bool { return n.Type == html.ElementNode && attr(n, "id") == id })
	if len(found) == 0 {
		return nil
	}
	return found[0]
}
