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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		require.NoError(t, err)
		var doc any
		require.NoError(t, yaml.Unmarshal(data, &doc), f)
		lines := netgradeLines(doc)
		require.NotEmpty(t, lines, "%s runs netgrade", f)
		for _, l := range lines {
			args := strings.Fields(l)[1:]
			root := newRoot(io.Discard, io.Discard)
			c, rest, err := root.Find(args)
			require.NoError(t, err, l)
			require.Equal(t, "check", c.Name(), l)
			require.NoError(t, c.ParseFlags(rest), l)
			var out outputFlags
			out.formats, _ = c.Flags().GetStringArray("format")
			_, err = out.parse()
			require.NoError(t, err, l)
		}
	}
	_, err := coursefile.Load(filepath.Join(examples, "gradescope/course.yaml"), course.Registry())
	require.NoError(t, err)
	for _, f := range []string{"gradescope/setup.sh", "gradescope/run_autograder"} {
		p := filepath.Join(examples, f)
		st, err := os.Stat(p)
		require.NoError(t, err)
		require.True(t, st.Mode()&0o111 != 0, "%s is executable", f)
		out, err := exec.Command("bash", "-n", p).CombinedOutput()
		require.NoError(t, err, string(out))
	}
}

// TestReadmeInstall: the README tells students and instructors how to
// install netgrade before its quick start: go install of this module's
// command, the static binary make build writes, the Debian packages of day
// two, and which sandbox a student's check uses.
func TestReadmeInstall(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	text := string(readme)
	install, quick := strings.Index(text, "\n## Install\n"), strings.Index(text, "\n## Quick start\n")
	require.True(t, install >= 0 && install < quick, "an Install section above the quick start")
	section := text[install:quick]
	mod, err := os.ReadFile("../../go.mod")
	require.NoError(t, err)
	module := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(mod), "\n", 2)[0], "module"))
	require.Contains(t, section, "go install "+module+"/cmd/netgrade@latest", "the command installs this module's CLI")
	mk, err := os.ReadFile("../../Makefile")
	require.NoError(t, err)
	require.Contains(t, string(mk), "\nbuild:\n\tCGO_ENABLED=0", "make build writes a static binary")
	for _, want := range []string{"make build", "bin/netgrade", "python3-flask", "python3-fastapi", "netgrade check", "`process` sandbox"} {
		require.Contains(t, section, want)
	}
}

// TestExamplesDayTwo: the CI examples install what a Flask or FastAPI API
// needs before netgrade checks it, Gradescope's setup.sh reads the
// package lists before installing, and what the Gradescope steps build is
// ignored by git.
func TestExamplesDayTwo(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(examples, "github/netgrade.yml"))
	require.NoError(t, err)
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Name string `yaml:"name"`
				Uses string `yaml:"uses"`
				Run  string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	require.NoError(t, yaml.Unmarshal(data, &wf))
	python, frameworks, check := -1, -1, -1
	for i, s := range wf.Jobs["check"].Steps {
		switch {
		case strings.HasPrefix(s.Uses, "actions/setup-python"):
			python = i
		case strings.Contains(s.Run, "pip install"):
			for _, pkg := range []string{"flask", "fastapi", "uvicorn"} {
				require.Contains(t, strings.Fields(s.Run), pkg)
			}
			frameworks = i
		case strings.Contains(s.Run, "netgrade check"):
			check = i
		}
	}
	require.True(t, python >= 0 && python < frameworks && frameworks < check,
		"setup-python, then pip install of the frameworks for its interpreter, then netgrade check (steps %d, %d, %d)", python, frameworks, check)

	gitlab, err := os.ReadFile(filepath.Join(examples, "gitlab/.gitlab-ci.yml"))
	require.NoError(t, err)
	for _, pkg := range []string{"python3-flask", "python3-fastapi", "python3-uvicorn", "faketime"} {
		require.Contains(t, string(gitlab), pkg)
	}

	setup, err := os.ReadFile(filepath.Join(examples, "gradescope/setup.sh"))
	require.NoError(t, err)
	text := string(setup)
	update, install := strings.Index(text, "\napt-get update"), strings.Index(text, "apt-get install")
	require.True(t, update >= 0 && update < install, "apt-get update comes before apt-get install")
	for _, pkg := range []string{"python3-flask", "python3-fastapi", "python3-uvicorn", "faketime"} {
		require.Contains(t, text, pkg)
	}

	if _, err := exec.LookPath("git"); err != nil {
		t.Skipf("SKIPPED: git not found on PATH (%v): the ignored files are not asked of git", err)
	}
	for _, f := range []string{"gradescope/autograder.zip", "gradescope/netgrade", "gradescope/results.json"} {
		out, err := exec.Command("git", "check-ignore", "-v", filepath.Join(examples, f)).CombinedOutput()
		require.NoError(t, err, "git ignores examples/%s: %s", f, out)
	}
	out, err := exec.Command("git", "check-ignore", filepath.Join(examples, "gradescope/setup.sh")).CombinedOutput()
	require.Error(t, err, "setup.sh is not ignored: %s", out)
}

// TestReadmeDayTwo: README's install section and quick start name every
// Debian package .ci/run installs for the tests, and say what is skipped
// without each; its exercise table has a row for every exercise of the
// course, each linking to a chapter's doc that exists.
func TestReadmeDayTwo(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	text := string(readme)
	start, end := strings.Index(text, "\n## Install\n"), strings.Index(text, "\n## Usage\n")
	require.True(t, start >= 0 && start < end)
	install := text[start:end]
	ci, err := os.ReadFile("../../.ci/run")
	require.NoError(t, err)
	var pkgs []string
	for _, l := range strings.Split(string(ci), "\n") {
		if rest, ok := strings.CutPrefix(l, "APT_PACKAGES=("); ok {
			pkgs = strings.Fields(strings.TrimSuffix(rest, ")"))
		}
	}
	require.NotEmpty(t, pkgs, ".ci/run lists its packages in APT_PACKAGES")
	for _, p := range pkgs {
		assert.Contains(t, install, p, "README's install section or quick start names %s", p)
	}
	for _, want := range []string{"| package | what uses it | without it |", "--python /usr/bin/python3", "make test", "SKIPPED:"} {
		assert.Contains(t, install, want)
	}

	table := text[strings.Index(text, "\n## The exercises\n"):]
	table = table[:strings.Index(table, "\n\n`netgrade list`")]
	for _, e := range course.Exercises() {
		var row string
		for _, l := range strings.Split(table, "\n") {
			if strings.HasPrefix(l, "| `"+e.ID()+"` |") {
				row = l
			}
		}
		require.NotEmpty(t, row, "README's exercise table has a row for %s", e.ID())
		assert.Contains(t, row, "`"+e.File+" ", "%s's command line names its file", e.ID())
		i := strings.Index(row, "](docs/")
		require.True(t, i >= 0, "%s's row links to its chapter's doc", e.ID())
		doc := row[i+2 : i+2+strings.Index(row[i+2:], ")")]
		_, err := os.Stat(filepath.Join("../..", doc))
		assert.NoError(t, err, "%s links to %s", e.ID(), doc)
	}
	assert.Contains(t, table, "[docs/rest.md](docs/rest.md)")
}
