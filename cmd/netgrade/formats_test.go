package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	junit "github.com/joshdk/go-junit"
	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/internal/coursefile"
	"github.com/netgrade/netgrade/internal/render"
	"github.com/netgrade/netgrade/internal/report"
	"golang.org/x/net/html"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// dangerous are byte sequences no report may hold raw: terminal control,
// a bidi override, GitHub's legacy log command.
var dangerous = []string{"\x1b", "\r", "\x00", "\x07", "\x08", "\u202e", "##["}

// TestHostileOutputEveryFormat grades the hostile fixture for real and
// writes every format at once, under GitHub Actions: whatever the program
// printed, each report holds the engine's verdict (log-format failed,
// nothing else), keeps its structure, and shows the attack as text.
func TestHostileOutputEveryFormat(t *testing.T) {
	dir := t.TempDir()
	src := fixture(t, "udp-server", "hostile_output.py")
	file := filepath.Join(dir, "udp-server.py")
	assert.NilError(t, os.WriteFile(file, src, 0o644))
	summary := filepath.Join(dir, "step-summary.md")
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)

	out := func(name string) string { return filepath.Join(dir, "report."+name) }
	code, stdout, stderr := runCLI(t, "check", dir,
		"--format", "text",
		"--format", "json:"+out("json"),
		"--format", "junit:"+out("xml"),
		"--format", "gradescope:"+out("gs.json"),
		"--format", "markdown:"+out("md"),
		"--format", "html:"+out("html"),
	)
	assert.Equal(t, code, exitFailed, "stdout:\n%s\nstderr:\n%s", stdout, stderr)

	read := func(p string) string {
		b, err := os.ReadFile(p)
		assert.NilError(t, err)
		return string(b)
	}
	files := map[string]string{
		"text": stdout, "json": read(out("json")), "junit": read(out("xml")),
		"gradescope": read(out("gs.json")), "markdown": read(out("md")),
		"html": read(out("html")), "step summary": read(summary),
	}
	for name, content := range files {
		for _, d := range dangerous {
			assert.Assert(t, !strings.Contains(content, d), "%s holds %q", name, d)
		}
		for _, l := range strings.Split(content, "\n") {
			assert.Assert(t, !strings.HasPrefix(strings.TrimLeft(l, " \t"), "::"), "%s: a line reads as a workflow command: %q", name, l)
		}
	}
	// The annotations on stderr are netgrade's own commands, one per
	// failed check, and nothing the program printed starts a line there.
	var annotations []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, " \t"), "::") {
			annotations = append(annotations, l)
		}
	}
	assert.Equal(t, len(annotations), 1, "annotations: %q", annotations)
	assert.Assert(t, strings.HasPrefix(annotations[0], "::error file="+ghEscape(file)+",title=udp-server/log-format"))
	for _, d := range dangerous {
		assert.Assert(t, !strings.Contains(stderr, d), "stderr holds %q", d)
	}

	// text: the verdict is the engine's; the fake ones are transcript data.
	assert.Assert(t, is.Contains(stdout, "Score: 10/12"))
	assert.Assert(t, is.Contains(stdout, "First to fix: udp-server/log-format"))
	assert.Assert(t, is.Contains(summaryRow(t, stdout, "udp-server"), "log-format"))

	// json: decodes to one result whose only failure is log-format.
	var r report.Result
	dec := json.NewDecoder(strings.NewReader(files["json"]))
	dec.DisallowUnknownFields()
	assert.NilError(t, dec.Decode(&r))
	assert.Assert(t, !dec.More())
	assert.DeepEqual(t, r.IDs(report.Fail), []string{"udp-server/log-format"})
	assert.Assert(t, is.Contains(r.Checks[2].Actual, "</failure>]]><script>x()</script> ##[error]y \u202eevil"),
		"JSON carries the printed bytes exactly (escaped, not altered)")

	// junit: a JUnit consumer sees the same testcases and verdicts.
	suites, err := junit.Ingest([]byte(files["junit"]))
	assert.NilError(t, err)
	assert.Equal(t, len(suites), 1)
	assert.Equal(t, len(suites[0].Tests), len(r.Checks))
	assert.Equal(t, suites[0].Totals.Failed, 1)
	for i, tc := range suites[0].Tests {
		assert.Equal(t, tc.Status == junit.StatusFailed, r.Checks[i].Status == report.Fail, tc.Name)
		assert.Assert(t, tc.Name != "fake")
	}

	// gradescope: one test per check, the same statuses and score.
	var g render.GradescopeResults
	assert.NilError(t, json.Unmarshal([]byte(files["gradescope"]), &g))
	assert.Equal(t, g.Score, r.Score)
	assert.Equal(t, len(g.Tests), len(r.Checks))
	for i, tc := range g.Tests {
		assert.Equal(t, tc.Status == "failed", r.Checks[i].Status == report.Fail, tc.Name)
	}

	// html: no script, no external resource; the attack is text.
	doc, err := html.Parse(strings.NewReader(files["html"]))
	assert.NilError(t, err)
	var elements []string
	var text strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			elements = append(elements, n.Data)
			for _, a := range n.Attr {
				assert.Assert(t, !strings.HasPrefix(a.Key, "on"), "attribute %s", a.Key)
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
	assert.Assert(t, !slices.Contains(elements, "script") && !slices.Contains(elements, "img"))
	assert.Assert(t, is.Contains(text.String(), "<script>x()</script>"))

	// markdown: the summary file and the --format file are the same
	// report; the printed markup sits in code blocks.
	assert.Equal(t, files["markdown"], files["step summary"])
	assert.Assert(t, is.Contains(files["markdown"], "First to fix: **udp-server/log-format**"))
}

// ghEscape escapes a workflow command property as GitHub's runner reads it.
func ghEscape(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// TestGradescopeCommand runs netgrade as Gradescope's run_autograder: a
// submission uploaded as a folder with one exercise of two.
func TestGradescopeCommand(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "submission")
	assert.NilError(t, os.MkdirAll(filepath.Join(sub, "my-work"), 0o755))
	assert.NilError(t, os.WriteFile(filepath.Join(sub, "my-work", "udp-server.py"), fixture(t, "udp-server", "plain.py"), 0o644))
	crs := filepath.Join(root, "course.yaml")
	assert.NilError(t, os.WriteFile(crs, []byte(`exercises:
  - id: udp-server
    file: udp-server.py
    checks:
      usage: {visibility: after_due_date}
  - id: udp-client
    file: udp-client.py
`), 0o644))
	results := filepath.Join(root, "results", "results.json")
	code, out, errs := runCLI(t, "gradescope", "--course", crs, "--submission", sub, "--results", results)
	assert.Equal(t, code, exitOK, "%s\n%s", out, errs)
	assert.Assert(t, is.Contains(out, "netgrade wrote "+results+": 12/20"))

	data, err := os.ReadFile(results)
	assert.NilError(t, err)
	var g render.GradescopeResults
	assert.NilError(t, json.Unmarshal(data, &g))
	assert.Equal(t, g.Score, 12.0)
	var server, client []render.GradescopeTest
	for _, tc := range g.Tests {
		switch tc.Tags[0] {
		case "udp-server":
			server = append(server, tc)
		case "udp-client":
			client = append(client, tc)
		}
	}
	assert.Equal(t, len(server), 9)
	for _, tc := range server {
		assert.Equal(t, tc.Status, "passed", tc.Name)
	}
	assert.Equal(t, server[8].Visibility, "after_due_date")
	assert.Assert(t, len(client) > 0)
	for _, tc := range client {
		assert.Equal(t, tc.Status, "failed")
		assert.Equal(t, tc.Score, 0.0)
		assert.Assert(t, tc.MaxScore > 0)
		assert.Assert(t, is.Contains(tc.Output, "udp-client.py was not found in the submission"))
	}
	assert.Assert(t, is.Contains(g.Output, "my-work/udp-server.py"))

	code, _, errs = runCLI(t, "gradescope", "--submission", filepath.Join(root, "nope"), "--results", results)
	assert.Equal(t, code, exitUsage)
	assert.Assert(t, is.Contains(errs, "no submission folder"))
}

// TestGitHubStepSummaryAppends shows that under GitHub Actions the
// Markdown summary is appended to $GITHUB_STEP_SUMMARY, after what
// earlier steps wrote there.
func TestGitHubStepSummaryAppends(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "client.py")
	assert.NilError(t, os.WriteFile(file, fixture(t, "udp-client", "plain.py"), 0o644))
	summary := filepath.Join(dir, "summary.md")
	assert.NilError(t, os.WriteFile(summary, []byte("# earlier step\n"), 0o644))
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	code, _, errs := runCLI(t, "grade", "udp-client", file)
	assert.Equal(t, code, exitOK)
	assert.Assert(t, !strings.Contains(errs, "::"), "no annotations outside GitHub Actions")
	b, err := os.ReadFile(summary)
	assert.NilError(t, err)
	assert.Assert(t, strings.HasPrefix(string(b), "# earlier step\n# netgrade report\n"))
	assert.Assert(t, is.Contains(string(b), "## ✅ udp-client — UDP client: 8/8"))
}

// TestGitHubOncePerRun shows that one check run, and one regrade under
// --watch, tell GitHub Actions once: one summary appended, one annotation
// per failed check, and the missing files named once, although a regrade
// writes its report to standard output and to files in two calls.
func TestGitHubOncePerRun(t *testing.T) {
	// once checks what one run left in the summary file and on stderr.
	once := func(t *testing.T, summary, stderr string) {
		t.Helper()
		b, err := os.ReadFile(summary)
		assert.NilError(t, err)
		assert.Equal(t, strings.Count(string(b), "# netgrade report\n"), 1, "summary:\n%s", b)
		seen := map[string]bool{}
		for _, l := range strings.Split(stderr, "\n") {
			if strings.HasPrefix(l, "::error ") {
				assert.Assert(t, !seen[l], "annotation written twice: %q", l)
				seen[l] = true
			}
		}
		assert.Assert(t, len(seen) > 0, "no annotation on stderr:\n%s", stderr)
		assert.Equal(t, strings.Count(stderr, "netgrade: missing files: "), 1, "stderr:\n%s", stderr)
	}
	// setup writes a failing udp-client.py (udp-server.py is missing) and
	// returns the folder, the summary file and a JUnit report path.
	setup := func(t *testing.T) (string, string, string) {
		dir := t.TempDir()
		assert.NilError(t, os.WriteFile(filepath.Join(dir, "udp-client.py"), fixture(t, "udp-client", "first_word.py"), 0o644))
		summary := filepath.Join(dir, "summary.md")
		t.Setenv("GITHUB_ACTIONS", "true")
		t.Setenv("GITHUB_STEP_SUMMARY", summary)
		return dir, summary, filepath.Join(dir, "report.xml")
	}

	t.Run("check", func(t *testing.T) {
		dir, summary, junitPath := setup(t)
		code, _, errs := runCLI(t, "check", dir, "--format", "junit:"+junitPath)
		assert.Equal(t, code, exitFailed, errs)
		once(t, summary, errs)
	})

	t.Run("regrade", func(t *testing.T) {
		dir, summary, junitPath := setup(t)
		cs, err := coursefile.Parse(course.DefaultName, course.YAML(), course.Registry())
		assert.NilError(t, err)
		ck, err := newChecker(cs, []string{dir})
		assert.NilError(t, err)
		ck.specs, err = (&outputFlags{formats: []string{"junit:" + junitPath}}).parse()
		assert.NilError(t, err)
		var out, errb bytes.Buffer
		ck.stdout, ck.stderr = &out, &errb
		ck.regrade(context.Background(), ck.items, "udp-client.py")
		_, err = os.Stat(junitPath)
		assert.NilError(t, err, "the report file is written")
		once(t, summary, errb.String())
	})
}
