package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/internal/coursefile"
	"gotest.tools/v3/assert"
)

const examples = "../../examples"

// netgradeLines returns the strings of a YAML document that run netgrade.
func netgradeLines(v any) []string {
	var out []string
	switch x := v.(type) {
	case string:
		for _, l := range strings.Split(x, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "netgrade ") {
				out = append(out, strings.TrimSpace(l))
			}
		}
	case []any:
		for _, e := range x {
			out = append(out, netgradeLines(e)...)
		}
	case map[string]any:
		for _, e := range x {
			out = append(out, netgradeLines(e)...)
		}
	}
	return out
}

// TestExamples shows that the CI examples are valid YAML whose netgrade
// command lines this netgrade accepts, that the Gradescope course file is
// a valid course, and that the Gradescope scripts are valid shell.
func TestExamples(t *testing.T) {
	for _, f := range []string{"github/netgrade.yml", "gitlab/.gitlab-ci.yml"} {
		data, err := os.ReadFile(filepath.Join(examples, f))
		assert.NilError(t, err)
		var doc any
		assert.NilError(t, yaml.Unmarshal(data, &doc), f)
		lines := netgradeLines(doc)
		assert.Assert(t, len(lines) > 0, "%s runs netgrade", f)
		for _, l := range lines {
			args := strings.Fields(l)[1:]
			root := newRoot(io.Discard, io.Discard)
			c, rest, err := root.Find(args)
			assert.NilError(t, err, l)
			assert.Equal(t, c.Name(), "check", l)
			assert.NilError(t, c.ParseFlags(rest), l)
			var out outputFlags
			out.formats, _ = c.Flags().GetStringArray("format")
			_, err = out.parse()
			assert.NilError(t, err, l)
		}
	}
	_, err := coursefile.Load(filepath.Join(examples, "gradescope/course.yaml"), course.Registry())
	assert.NilError(t, err)
	for _, f := range []string{"gradescope/setup.sh", "gradescope/run_autograder"} {
		p := filepath.Join(examples, f)
		st, err := os.Stat(p)
		assert.NilError(t, err)
		assert.Assert(t, st.Mode()&0o111 != 0, "%s is executable", f)
		out, err := exec.Command("bash", "-n", p).CombinedOutput()
		assert.NilError(t, err, string(out))
	}
}
