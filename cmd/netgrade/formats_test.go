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
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
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
	require.NoError(t, os.WriteFile(file, src, 0o644))
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
	require.Equal(t, exitFailed, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)

	read := func(p string) string {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		return string(b)
	}
	files := map[string]string{
		"text": stdout, "json": read(out("json")), "junit": read(out("xml")),
		"gradescope": read(out("gs.json")), "markdown": read(out("md")),
		"html": read(out("html")), "step summary": read(summary),
	}
	for name, content := range files {
		for _, d := range dangerous {
			require.NotContains(t, content, d, "%s holds %q", name, d)
		}
		for _, l := range strings.Split(content, "\n") {
			require.False(t, strings.HasPrefix(strings.TrimLeft(l, " \t"), "::"), "%s: a line reads as a workflow command: %q", name, l)
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
	require.Equal(t, 1, len(annotations), "annotations: %q", annotations)
	require.True(t, strings.HasPrefix(annotations[0], "::error file="+ghEscape(file)+",title=udp-server/log-format"), "strings.HasPrefix(annotations[0], \"::error file=\"+ghEscape(file)+\",title=udp-server/log-format\")")
	for _, d := range dangerous {
		require.NotContains(t, stderr, d, "stderr holds %q", d)
	}

	// text: the verdict is the engine's; the fake ones are transcript data.
	require.Contains(t, stdout, "Score: 10/12")
	require.Contains(t, stdout, "First to fix: udp-server/log-format")
	require.Contains(t, summaryRow(t, stdout, "udp-server"), "log-format")

	// json: decodes to one result whose only failure is log-format.
	var r report.Result
	dec := json.NewDecoder(strings.NewReader(files["json"]))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&r))
	require.False(t, dec.More(), "!dec.More()")
	require.Equal(t, []string{"udp-server/log-format"}, r.IDs(report.Fail))
	require.Contains(t, r.Checks[2].Actual, "</failure>]]><script>x()</script> ##[error]y \u202eevil", "JSON carries the printed bytes exactly (escaped, not altered)")

	// junit: a JUnit consumer sees the same testcases and verdicts.
	suites, err := junit.Ingest([]byte(files["junit"]))
	require.NoError(t, err)
	require.Equal(t, 1, len(suites))
	require.Equal(t, len(r.Checks), len(suites[0].Tests))
	require.Equal(t, 1, suites[0].Totals.Failed)
	for i, tc := range suites[0].Tests {
		require.Equal(t, r.Checks[i].Status == report.Fail, tc.Status == junit.StatusFailed, tc.Name)
		require.True(t, tc.Name != "fake", "tc.Name != \"fake\"")
	}

	// gradescope: one test per check, the same statuses and score.
	var g render.GradescopeResults
	require.NoError(t, json.Unmarshal([]byte(files["gradescope"]), &g))
	require.Equal(t, r.Score, g.Score)
	require.Equal(t, len(r.Checks), len(g.Tests))
	for i, tc := range g.Tests {
		require.Equal(t, r.Checks[i].Status == report.Fail, tc.Status == "failed", tc.Name)
	}

	// html: no script, no external resource; the attack is text.
	doc, err := html.Parse(strings.NewReader(files["html"]))
	require.NoError(t, err)
	var elements []string
	var text strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			elements = append(elements, n.Data)
			for _, a := range n.Attr {
				require.False(t, strings.HasPrefix(a.Key, "on"), "attribute %s", a.Key)
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
	require.True(t, !slices.Contains(elements, "script") && !slices.Contains(elements, "img"), "!slices.Contains(elements, \"script\") && !slices.Contains(elements, \"img\")")
	require.Contains(t, text.String(), "<script>x()</script>")

	// markdown: the summary file and the --format file are the same
	// report; the printed markup sits in code blocks.
	require.Equal(t, files["step summary"], files["markdown"])
	require.Contains(t, files["markdown"], "First to fix: **udp-server/log-format**")
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
	require.NoError(t, os.MkdirAll(filepath.Join(sub, "my-work"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(sub, "my-work", "udp-server.py"), fixture(t, "udp-server", "plain.py"), 0o644))
	crs := filepath.Join(root, "course.yaml")
	require.NoError(t, os.WriteFile(crs, []byte(`exercises:
  - id: udp-server
    file: udp-server.py
    checks:
      usage: {visibility: after_due_date}
  - id: udp-client
    file: udp-client.py
`), 0o644))
	results := filepath.Join(root, "results", "results.json")
	code, out, errs := runCLI(t, "gradescope", "--course", crs, "--submission", sub, "--results", results)
	require.Equal(t, exitOK, code, "%s\n%s", out, errs)
	require.Contains(t, out, "netgrade wrote "+results+": 12/20")

	data, err := os.ReadFile(results)
	require.NoError(t, err)
	var g render.GradescopeResults
	require.NoError(t, json.Unmarshal(data, &g))
	require.Equal(t, 12.0, g.Score)
	var server, client []render.GradescopeTest
	for _, tc := range g.Tests {
		switch tc.Tags[0] {
		case "udp-server":
			server = append(server, tc)
		case "udp-client":
			client = append(client, tc)
		}
	}
	require.Equal(t, 9, len(server))
	for _, tc := range server {
		require.Equal(t, "passed", tc.Status, tc.Name)
	}
	require.Equal(t, "after_due_date", server[8].Visibility)
	require.NotEmpty(t, client)
	for _, tc := range client {
		require.Equal(t, "failed", tc.Status)
		require.Equal(t, 0.0, tc.Score)
		require.True(t, tc.MaxScore > 0, "tc.MaxScore > 0")
		require.Contains(t, tc.Output, "udp-client.py was not found in the submission")
	}
	require.Contains(t, g.Output, "my-work/udp-server.py")

	code, _, errs = runCLI(t, "gradescope", "--submission", filepath.Join(root, "nope"), "--results", results)
	require.Equal(t, exitUsage, code)
	require.Contains(t, errs, "no submission folder")
}

// TestGitHubStepSummaryAppends shows that under GitHub Actions the
// Markdown summary is appended to $GITHUB_STEP_SUMMARY, after what
// earlier steps wrote there.
func TestGitHubStepSummaryAppends(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "client.py")
	require.NoError(t, os.WriteFile(file, fixture(t, "udp-client", "plain.py"), 0o644))
	summary := filepath.Join(dir, "summary.md")
	require.NoError(t, os.WriteFile(summary, []byte("# earlier step\n"), 0o644))
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	code, _, errs := runCLI(t, "grade", "udp-client", file)
	require.Equal(t, exitOK, code)
	require.NotContains(t, errs, "::", "no annotations outside GitHub Actions")
	b, err := os.ReadFile(summary)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(b), "# earlier step\n# netgrade report\n"), "strings.HasPrefix(string(b), \"# earlier step\\n# netgrade report\\n\")")
	require.Contains(t, string(b), "## ✅ udp-client — UDP client: 8/8")
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
		require.NoError(t, err)
		require.Equal(t, 1, strings.Count(string(b), "# netgrade report\n"), "summary:\n%s", b)
		seen := map[string]bool{}
		for _, l := range strings.Split(stderr, "\n") {
			if strings.HasPrefix(l, "::error ") {
				require.False(t, seen[l], "annotation written twice: %q", l)
				seen[l] = true
			}
		}
		require.NotEmpty(t, seen, "no annotation on stderr:\n%s", stderr)
		require.Equal(t, 1, strings.Count(stderr, "netgrade: missing files: "), "stderr:\n%s", stderr)
	}
	// setup writes a failing udp-client.py (udp-server.py is missing) and
	// returns the folder, the summary file and a JUnit report path.
	setup := func(t *testing.T) (string, string, string) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "udp-client.py"), fixture(t, "udp-client", "first_word.py"), 0o644))
		summary := filepath.Join(dir, "summary.md")
		t.Setenv("GITHUB_ACTIONS", "true")
		t.Setenv("GITHUB_STEP_SUMMARY", summary)
		return dir, summary, filepath.Join(dir, "report.xml")
	}

	t.Run("check", func(t *testing.T) {
		dir, summary, junitPath := setup(t)
		code, _, errs := runCLI(t, "check", dir, "--format", "junit:"+junitPath)
		require.Equal(t, exitFailed, code, errs)
		once(t, summary, errs)
	})

	t.Run("regrade", func(t *testing.T) {
		dir, summary, junitPath := setup(t)
		cs, err := coursefile.Parse(course.DefaultName, course.YAML(), course.Registry())
		require.NoError(t, err)
		ck, err := newChecker(cs, []string{dir})
		require.NoError(t, err)
		ck.specs, err = (&outputFlags{formats: []string{"junit:" + junitPath}}).parse()
		require.NoError(t, err)
		var out, errb bytes.Buffer
		ck.stdout, ck.stderr = &out, &errb
		ck.regrade(context.Background(), ck.items, "udp-client.py")
		_, err = os.Stat(junitPath)
		require.NoError(t, err, "the report file is written")
		once(t, summary, errb.String())
	})
}
