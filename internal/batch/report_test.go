package batch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/sandbox/sandboxtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
	"gotest.tools/v3/golden"
)

// hostile is a failure message a student's program could have caused:
// markup and terminal escapes, which every output must neutralise.
const hostile = "got <img src=x onerror=alert(1)> and \x1b[31mred\x1b[0m"

// synthRecords makes n students' records on the default course, with
// verdicts spread deterministically: student i fails check j when
// (i*(j+3)) % 7 < j % 4, and a few students hand in nothing for udp-client.
func synthRecords(n int) []*batch.Record {
	exs := classExercises()
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var recs []*batch.Record
	for i := range n {
		r := &batch.Record{Schema: batch.RecordSchema, Student: fmt.Sprintf("student-%02d", i), Source: fmt.Sprintf("student-%02d", i),
			Digest: "sha256:0", Sandbox: "netns", GradedAt: at.Add(time.Duration(i) * time.Second), Version: "test"}
		if i%10 == 3 {
			r.Sandbox = "process"
		}
		j := 0
		for _, ex := range exs {
			res := report.Result{Schema: report.Schema, Exercise: ex.ID, Title: ex.Title, Submission: r.Student + "/" + ex.ID + ".py",
				Command: []string{"python3", ex.ID + ".py"}, StartedAt: at, Sandbox: r.Sandbox}
			missing := ex.ID == "udp-client" && i%9 == 4
			if missing {
				res.Command, res.Missing = nil, true
			}
			for _, c := range ex.Checks {
				ck := report.Check{ID: c.ID, Title: c.Title, Category: c.Category, MaxPoints: c.Points, Status: report.Pass}
				switch {
				case missing:
					ck.Status, ck.Message = report.Skip, "skipped: the submission has no udp-client.py"
				case (i*(j+3))%7 < j%4:
					ck.Status, ck.Message = report.Fail, fmt.Sprintf("no answer on port %d", 20000+i)
					if j%5 == 0 {
						ck.Message = hostile
					}
				}
				res.Checks = append(res.Checks, ck)
				j++
			}
			res.Tally()
			r.Results = append(r.Results, res)
		}
		r.Score, r.MaxScore = report.Total(r.Results)
		recs = append(recs, r)
	}
	return recs
}

// writeRecords writes the records and a page for each into out.
func writeRecords(t *testing.T, out string, recs []*batch.Record) {
	t.Helper()
	for _, r := range recs {
		data, err := json.MarshalIndent(r, "", "  ")
		require.NoError(t, err)
		require.NoError(t, batch.WriteFileAtomic(batch.RecordPath(out, r.Student), data))
		require.NoError(t, batch.WriteFileAtomic(batch.PagePath(out, r.Student), []byte("<!DOCTYPE html><title>"+r.Student+"</title>")))
	}
}

func TestClassFilesGolden(t *testing.T) {
	out := t.TempDir()
	recs := synthRecords(30)
	writeRecords(t, out, recs)
	sum, err := batch.WriteClassFiles(out, classExercises(), batch.ReportMeta{Version: "test", Generated: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	for _, f := range []string{"grades.csv", "summary.json"} {
		data, err := os.ReadFile(filepath.Join(out, f))
		require.NoError(t, err)
		golden.Assert(t, string(data), "class-"+f+".golden")
	}

	// The figures agree with the records they come from.
	assert.Equal(t, 30, sum.Students)
	hist := 0
	for _, b := range sum.Histogram {
		hist += b.Count
	}
	assert.Equal(t, 30, hist, "every student is in the histogram once")
	for _, c := range sum.Checks {
		handedIn := 30
		if c.Exercise == "udp-client" {
			handedIn = 27 // students 4, 13 and 22 handed in no udp-client.py
		}
		assert.Equal(t, handedIn, c.HandedIn, c.ID)
		assert.Equal(t, handedIn, c.Pass+c.Fail+c.Skip+c.Error, "%s: only work handed in counts", c.ID)
	}
	client := sum.Checks[len(sum.Checks)-1]
	assert.NotContains(t, client.CommonFailure, "udp-client.py", "a missing file says nothing about a check")
	assert.Equal(t, 3, sum.Sandboxes["process"])
}

func TestGradesCSVNeutralisesFormulas(t *testing.T) {
	recs := synthRecords(1)
	recs[0].Student = "=HYPERLINK(\"http://x\")"
	data, err := batch.GradesCSV(recs, classExercises())
	require.NoError(t, err)
	assert.Contains(t, string(data), `"'=HYPERLINK(""http://x"")"`)
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

// chromium runs headless Chromium on a page with extra arguments and
// returns what it printed on standard output.
func chromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--no-first-run", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "chromium: %s", stderr.String())
	return out
}

// layoutProbe, added to a copy of the page, records what Chromium laid out
// into the DOM that --dump-dom prints.
const layoutProbe = `<script>
document.body.setAttribute("data-layout", JSON.stringify({
  bars: [...document.querySelectorAll("#histogram rect.bar")].map(r => ({count: +r.dataset.count, h: r.getBoundingClientRect().height})),
  rates: [...document.querySelectorAll("#checks tr.check")].map(tr => ({rate: +tr.dataset.rate, w: tr.querySelector("rect.rate").getBoundingClientRect().width, track: tr.querySelector("rect.track").getBoundingClientRect().width})),
  rows: [...document.querySelectorAll("#students tr.student")].map(tr => tr.getBoundingClientRect().height),
  links: [...document.querySelectorAll("#students a")].map(a => a.href),
  images: document.images.length,
  width: document.documentElement.scrollWidth,
}));
</script>`

type layout struct {
	Bars []struct {
		Count int
		H     float64
	}
	Rates []struct {
		Rate, W, Track float64
	}
	Rows   []float64
	Links  []string
	Images int
	Width  int
}

func TestClassReportInChromium(t *testing.T) {
	bin := findChromium(t)
	out := t.TempDir()
	recs := synthRecords(30)
	writeRecords(t, out, recs)
	sum, err := batch.WriteClassFiles(out, classExercises(), batch.ReportMeta{Version: "test"})
	require.NoError(t, err)
	page := filepath.Join(out, "report.html")
	src, err := os.ReadFile(page)
	require.NoError(t, err)

	// Self-contained: nothing is fetched.
	doc, err := html.Parse(bytes.NewReader(src))
	require.NoError(t, err)
	for _, n := range all(doc, func(n *html.Node) bool { return true }) {
		for _, a := range n.Attr {
			if a.Key == "src" || (a.Key == "href" && n.Data == "link") {
				t.Errorf("the page loads %s=%q", a.Key, a.Val)
			}
		}
	}

	// The DOM as Chromium built it.
	dom := chromium(t, bin, "--dump-dom", "file://"+page)
	ddoc, err := html.Parse(bytes.NewReader(dom))
	require.NoError(t, err)
	bars := all(ddoc, hasClass("rect", "bar"))
	require.Len(t, bars, 10, "ten histogram bars")
	for i, b := range bars {
		assert.Equal(t, fmt.Sprint(sum.Histogram[i].Count), attr(b, "data-count"), "bar %d", i)
	}
	rows := all(ddoc, hasClass("tr", "student"))
	require.Len(t, rows, len(recs), "a row per student")
	for i, r := range rows {
		a := all(r, func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == "a" })
		require.Len(t, a, 1)
		assert.Equal(t, "students/"+recs[i].Student+".html", attr(a[0], "href"))
	}
	assert.Len(t, all(ddoc, hasClass("tr", "check")), 16, "a pass-rate row per check")
	assert.Len(t, all(ddoc, hasClass("tr", "exercise")), 2, "a row per exercise")
	assert.NotEmpty(t, all(ddoc, hasClass("tr", "hard")), "the checks most students fail")
	assert.NotNil(t, byID(ddoc, "no-isolation"), "the report says some students were graded without isolation")
	assert.Empty(t, all(ddoc, func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == "img" }), "a student's output never becomes markup")
	assert.Contains(t, string(dom), `got &lt;img src=x onerror=alert(1)&gt; and \x1b[31mred\x1b[0m`, "the hostile message is shown as text, escapes neutralised")

	// The layout Chromium computed.
	probe := filepath.Join(out, "probe.html")
	require.NoError(t, os.WriteFile(probe, bytes.Replace(src, []byte("</body>"), []byte(layoutProbe+"</body>"), 1), 0o644))
	pdom := chromium(t, bin, "--window-size=1200,2000", "--dump-dom", "file://"+probe)
	pdoc, err := html.Parse(bytes.NewReader(pdom))
	require.NoError(t, err)
	body := all(pdoc, func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == "body" })
	require.Len(t, body, 1)
	var lay layout
	require.NoError(t, json.Unmarshal([]byte(attr(body[0], "data-layout")), &lay), "the layout probe ran")
	require.Len(t, lay.Bars, 10)
	tallest := 0.0
	maxCount := 0
	for _, b := range lay.Bars {
		tallest = max(tallest, b.H)
		maxCount = max(maxCount, b.Count)
	}
	require.Greater(t, tallest, 50.0, "the histogram is drawn")
	for i, b := range lay.Bars {
		assert.InDelta(t, float64(b.Count)/float64(maxCount)*tallest, b.H, 1.0, "bar %d is as tall as its count", i)
	}
	require.Len(t, lay.Rates, 16)
	for _, r := range lay.Rates {
		assert.InDelta(t, r.Rate*r.Track, r.W, 1.0, "a pass-rate bar is as long as its rate")
	}
	require.Len(t, lay.Rows, len(recs))
	for _, h := range lay.Rows {
		assert.Greater(t, h, 10.0, "student rows are shown")
	}
	for i, l := range lay.Links {
		u, err := url.Parse(l)
		require.NoError(t, err)
		assert.Equal(t, batch.PagePath(out, recs[i].Student), u.Path, "the link leads to the student's page")
		assert.FileExists(t, u.Path)
	}
	assert.Zero(t, lay.Images)
	assert.LessOrEqual(t, lay.Width, 1200, "no horizontal scrolling at 1200 px")

	// A screenshot, kept for people to look at.
	shots := os.Getenv("NETGRADE_ARTIFACTS")
	if shots == "" {
		shots = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(shots, 0o755))
	shot := filepath.Join(shots, "class-report.png")
	chromium(t, bin, "--window-size=1200,2000", "--hide-scrollbars", "--screenshot="+shot, "file://"+page)
	f, err := os.Open(shot)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Equal(t, 1200, img.Bounds().Dx())
	blue := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 2 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			if r>>8 == 0x15 && g>>8 == 0x65 && b>>8 == 0xc0 {
				blue++
			}
		}
	}
	assert.Greater(t, blue, 500, "the histogram's bars are painted")
	t.Logf("screenshot: %s", shot)
}

// all returns the nodes under n that match.
func all(n *html.Node, match func(*html.Node) bool) []*html.Node {
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
	walk(n)
	return out
}

// hasClass matches elements named tag with the class.
func hasClass(tag, class string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		return n.Type == html.ElementNode && n.Data == tag && strings.Contains(" "+attr(n, "class")+" ", " "+class+" ")
	}
}

// byID returns the element with the id, or nil.
func byID(n *html.Node, id string) *html.Node {
	m := all(n, func(n *html.Node) bool { return n.Type == html.ElementNode && attr(n, "id") == id })
	if len(m) == 0 {
		return nil
	}
	return m[0]
}

// attr returns an attribute's value.
func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// classExercises are the exercises of the test classes: the two UDP
// exercises, whatever else the registry holds, so that golden files do not
// change when an exercise is added.
// classIDs are the exercises of the test class.
func classIDs() []string { return []string{"udp-server", "udp-client"} }

func classExercises() []*graders.Exercise {
	var exs []*graders.Exercise
	for _, id := range classIDs() {
		ex, err := course.Registry().Get(id)
		if err != nil {
			panic(err)
		}
		exs = append(exs, ex)
	}
	return exs
}
