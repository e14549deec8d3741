package similarity

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/sandbox/sandboxtest"
	"golang.org/x/net/html"
	"gotest.tools/v3/assert"
)

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

// sideProbe, added to a copy of the page, records in the DOM what
// Chromium laid out: which pair sections show, and the colour of every
// highlighted fragment on each side of the one shown.
const sideProbe = `<script>
window.addEventListener("load", () => {
const shown = [...document.querySelectorAll("section.pair")].filter(s => getComputedStyle(s).display !== "none");
const marks = side => shown.length ? [...shown[0].querySelectorAll(".file." + side + " mark")].map(m => ({frag: +m.dataset.frag, bg: getComputedStyle(m).backgroundColor})) : [];
document.body.setAttribute("data-layout", JSON.stringify({
  shown: shown.map(s => s.id),
  sections: document.querySelectorAll("section.pair").length,
  a: marks("a"), b: marks("b"),
  rows: [...document.querySelectorAll("tr.pair-row")].map(r => r.dataset.a + "+" + r.dataset.b),
  images: document.images.length,
  scripts: document.scripts.length,
}));
});
</script>`

type sideLayout struct {
	Shown    []string
	Sections int
	A, B     []struct {
		Frag int
		BG   string
	}
	Rows    []string
	Images  int
	Scripts int
}

func TestPageInChromium(t *testing.T) {
	bin := findChromium(t)
	py := python(t)
	ex := classExercise(t)
	// A pair whose code holds markup: shown as text, never run.
	hostile := "import sys\nprint(\"</pre><img src=x onerror=alert(1)><script>alert(2)</script>\")\n" + independent["chi"]
	dir := t.TempDir()
	for _, id := range []string{"xss1", "xss2"} {
		p := filepath.Join(dir, id+".py")
		assert.NilError(t, os.WriteFile(p, []byte(hostile), 0o644))
		ex.Files = append(ex.Files, File{Student: id, Name: "tcp-upper.py", Path: p})
	}
	rep, err := Analyze(context.Background(), []ExerciseFiles{ex}, Options{Python: py})
	assert.NilError(t, err)
	var page bytes.Buffer
	assert.NilError(t, WritePage(&page, rep, PageMeta{Version: "test"}))

	// Self-contained: nothing is fetched, no script.
	doc, err := html.Parse(bytes.NewReader(page.Bytes()))
	assert.NilError(t, err)
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			assert.Check(t, n.Data != "script" && n.Data != "img" && n.Data != "link", "the page holds a <%s>", n.Data)
			for _, a := range n.Attr {
				assert.Check(t, a.Key != "src", "the page loads %s", a.Val)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)

	probe := filepath.Join(t.TempDir(), "similarity.html")
	assert.NilError(t, os.WriteFile(probe, bytes.Replace(page.Bytes(), []byte("</body>"), []byte(sideProbe+"</body>"), 1), 0o644))
	layout := func(anchor string) sideLayout {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
			"--no-first-run", "--user-data-dir="+t.TempDir(), "--window-size=1300,1400", "--dump-dom", "file://"+probe+anchor)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		dom, err := cmd.Output()
		assert.NilError(t, err, "chromium: %s", stderr.String())
		ddoc, err := html.Parse(bytes.NewReader(dom))
		assert.NilError(t, err)
		var body *html.Node
		var find func(n *html.Node)
		find = func(n *html.Node) {
			if n.Type == html.ElementNode && n.Data == "body" {
				body = n
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				find(c)
			}
		}
		find(ddoc)
		assert.Assert(t, body != nil)
		var lay sideLayout
		for _, a := range body.Attr {
			if a.Key == "data-layout" {
				assert.NilError(t, json.Unmarshal([]byte(a.Val), &lay))
			}
		}
		assert.Equal(t, lay.Scripts, 1, "the probe ran, and it is the only script")
		assert.Equal(t, lay.Images, 0, "a student's code never becomes markup")
		return lay
	}

	// The list: the planted pairs first, the hostile pair too; no side
	// by side view open.
	lay := layout("")
	assert.DeepEqual(t, lay.Rows[:2], []string{"xss1+xss2", "ana+ana-renamed"})
	assert.Equal(t, lay.Sections, len(lay.Rows))
	assert.Equal(t, len(lay.Shown), 0)

	// A pair's link opens its view: each fragment in one colour, the same
	// on both sides, and two fragments in two colours.
	for i := range lay.Rows {
		anchor := fmt.Sprintf("pair-1-%d", i+1)
		lay := layout("#" + anchor)
		assert.DeepEqual(t, lay.Shown, []string{anchor})
		assert.Assert(t, len(lay.A) > 0 && len(lay.B) > 0, "%s: fragments are highlighted on both sides", anchor)
		colour := map[int]string{}
		for _, m := range append(lay.A, lay.B...) {
			assert.Check(t, m.BG != "" && !strings.Contains(m.BG, "rgba(0, 0, 0, 0)"), "%s: fragment %d is coloured", anchor, m.Frag)
			if c, ok := colour[m.Frag]; ok {
				assert.Check(t, c == m.BG, "%s: fragment %d is %s and %s", anchor, m.Frag, c, m.BG)
			}
			colour[m.Frag] = m.BG
		}
		inA := map[int]bool{}
		for _, m := range lay.A {
			inA[m.Frag] = true
		}
		for _, m := range lay.B {
			assert.Check(t, inA[m.Frag], "%s: fragment %d is on one side only", anchor, m.Frag)
		}
		for f, c := range colour {
			for g, d := range colour {
				if f < g && g-f < palette {
					assert.Check(t, c != d, "%s: fragments %d and %d share a colour", anchor, f, g)
				}
			}
		}
	}
}
