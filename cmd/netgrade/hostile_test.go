package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	junit "github.com/joshdk/go-junit"
	"github.com/netgrade/netgrade/internal/render"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/sandbox/sandboxtest/hostile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

// TestHostileCorpusEveryFormat grades the programs of the hostile corpus
// whose output attacks the reports (markup, escapes, workflow commands,
// invalid UTF-8; endless 64 KiB lines) and writes every format at once,
// under GitHub Actions: each report parses, holds the engine's verdicts,
// and shows what the program printed as inert text.
func TestHostileCorpusEveryFormat(t *testing.T) {
	for _, name := range []string{"hostile-output", "endless-output"} {
		t.Run(name, func(t *testing.T) {
			prog, err := hostile.Get(name)
			require.NoError(t, err)
			dir := t.TempDir()
			file, err := prog.Write(dir, "udp-server.py", 0)
			require.NoError(t, err)
			summary := filepath.Join(dir, "step-summary.md")
			t.Setenv("GITHUB_ACTIONS", "true")
			t.Setenv("GITHUB_STEP_SUMMARY", summary)
			out := func(ext string) string { return filepath.Join(dir, "report."+ext) }
			code, stdout, stderr := runCLI(t, "check", dir, "--format", "text",
				"--format", "json:"+out("json"), "--format", "junit:"+out("xml"),
				"--format", "gradescope:"+out("gs.json"), "--format", "markdown:"+out("md"),
				"--format", "html:"+out("html"))
			require.Equal(t, exitFailed, code, "stderr:\n%s", stderr)
			read := func(p string) string {
				b, err := os.ReadFile(p)
				require.NoError(t, err)
				return string(b)
			}
			files := map[string]string{
				"text": stdout, "json": read(out("json")), "junit": read(out("xml")),
				"gradescope": read(out("gs.json")), "markdown": read(out("md")),
				"html": read(out("html")), "step summary": read(summary), "annotations": stderr,
			}
			for format, content := range files {
				for _, d := range dangerous {
					assert.NotContains(t, content, d, "%s holds %q raw", format, d)
				}
				for _, l := range strings.Split(content, "\n") {
					if format == "annotations" && strings.HasPrefix(l, "::error file="+ghEscape(file)+",title=udp-server/") {
						continue // netgrade's own annotation of a failed check
					}
					assert.False(t, strings.HasPrefix(strings.TrimLeft(l, " \t"), "::"), "%s: a line reads as a workflow command: %.200q", format, l)
				}
			}

			var r report.Result
			dec := json.NewDecoder(strings.NewReader(files["json"]))
			dec.DisallowUnknownFields()
			require.NoError(t, dec.Decode(&r))
			assert.Empty(t, r.IDs(report.Error), "no check in error")
			assert.NotEmpty(t, r.IDs(report.Fail))
			assert.NotEmpty(t, r.Containment)

			suites, err := junit.Ingest([]byte(files["junit"]))
			require.NoError(t, err)
			require.Len(t, suites, 1)
			require.Len(t, suites[0].Tests, len(r.Checks))
			for i, tc := range suites[0].Tests {
				assert.Equal(t, r.Checks[i].Status == report.Fail, tc.Status == junit.StatusFailed, tc.Name)
			}

			var g render.GradescopeResults
			require.NoError(t, json.Unmarshal([]byte(files["gradescope"]), &g))
			assert.Equal(t, r.Score, g.Score)

			doc, err := html.Parse(strings.NewReader(files["html"]))
			require.NoError(t, err)
			for n := range doc.Descendants() {
				if n.Type != html.ElementNode {
					continue
				}
				assert.NotContains(t, []string{"script", "img"}, n.Data, "an element from the program's output")
				for _, a := range n.Attr {
					assert.False(t, strings.HasPrefix(a.Key, "on"), "attribute %s", a.Key)
				}
			}
			assert.Equal(t, files["markdown"], files["step summary"])
		})
	}
}
