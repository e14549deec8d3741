package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/sandbox/sandboxtest"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/icmd"
)

var bin string

// TestMain runs the tests against the netgrade sandboxtest.Main builds,
// with the GITHUB_* variables unset: the tests must not write to the job
// summary or annotations of the CI running them.
func TestMain(m *testing.M) {
	for _, v := range []string{"GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"} {
		os.Unsetenv(v)
	}
	sandboxtest.Main(m, &bin)
}

// fixtureFile writes a sample submission into a temporary folder, under
// its fixture name.
func fixtureFile(t *testing.T, exercise, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	assert.NilError(t, os.WriteFile(p, fixture(t, exercise, name), 0o644))
	return p
}

// Command-line mistakes exit 2 with a message that says what to do, and
// never start grading.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no exercise", []string{"grade"}, "give the exercise to grade"},
		{"unknown exercise", []string{"grade", "udp-srever", "x.py"}, `unknown exercise "udp-srever"; known exercises: `},
		{"missing file", []string{"grade", "udp-server", "nope.py"}, "submission file: stat nope.py: no such file"},
		{"no program", []string{"grade", "udp-server"}, "give the program to grade"},
		{"file and command", []string{"grade", "udp-server", "a.py", "--", "python3", "a.py"}, "not both"},
		{"unknown format", []string{"grade", "udp-server", "--ref", "--format", "yaml"}, `unknown format "yaml": use one of`},
		{"two formats on stdout", []string{"grade", "udp-server", "--ref", "--format", "text", "--format", "json"}, "several formats would go to standard output"},
		{"unknown flag", []string{"grade", "--frmat", "json"}, "unknown flag: --frmat"},
		{"unknown command", []string{"grdae"}, `unknown command "grdae"`},
		{"ref of unknown exercise", []string{"ref", "tcp-nothing"}, `no reference implementation of "tcp-nothing"`},
		{"list unknown", []string{"list", "nope"}, `unknown exercise "nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tc.args, &out, &errOut)
			assert.Equal(t, code, exitUsage, "stderr: %s", errOut.String())
			assert.Assert(t, is.Contains(errOut.String(), tc.want))
			assert.Assert(t, is.Contains(errOut.String(), "netgrade --help"))
			assert.Equal(t, out.String(), "", "nothing graded, nothing reported")
		})
	}
}

func TestGradeReferenceJSON(t *testing.T) {
	res := icmd.RunCommand(bin, "grade", "udp-server", "--ref", "--format", "json")
	res.Assert(t, icmd.Success)
	var r report.Result
	assert.NilError(t, json.Unmarshal([]byte(res.Stdout()), &r))
	assert.Equal(t, r.Schema, 1)
	assert.Equal(t, r.Exercise, "udp-server")
	assert.Assert(t, r.MaxScore > 0)
	assert.Equal(t, r.Score, r.MaxScore)
}

func TestGradeExitCodes(t *testing.T) {
	t.Run("passing file", func(t *testing.T) {
		icmd.RunCommand(bin, "grade", "udp-client", fixtureFile(t, "udp-client", "plain.py")).Assert(t, icmd.Expected{ExitCode: 0, Out: "All checks passed."})
	})
	t.Run("failing file", func(t *testing.T) {
		res := icmd.RunCommand(bin, "grade", "udp-client", fixtureFile(t, "udp-client", "first_word.py"))
		res.Assert(t, icmd.Expected{ExitCode: 1, Out: "✘ udp-client/spaces"})
		assert.Assert(t, is.Contains(res.Stdout(), "hint:"))
		assert.Assert(t, !strings.Contains(res.Stdout(), "\x1b["), "colour on a pipe")
	})
	t.Run("command with placeholders", func(t *testing.T) {
		icmd.RunCommand(bin, "grade", "udp-client", "--", bin, "ref", "udp-client", "{host}", "{port}", "{message}").Assert(t, icmd.Success)
	})
	t.Run("command without placeholders gets the exercise's arguments", func(t *testing.T) {
		icmd.RunCommand(bin, "grade", "udp-server", "--", bin, "ref", "udp-server").Assert(t, icmd.Success)
	})
}

func TestOutputFile(t *testing.T) {
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "out", "result.json")
	res := icmd.RunCommand(bin, "grade", "udp-server", "--ref", "--format", "text", "--format", "json:"+jsonPath)
	res.Assert(t, icmd.Success)
	assert.Assert(t, is.Contains(res.Stdout(), "Score: 12/12"))
	data, err := os.ReadFile(jsonPath)
	assert.NilError(t, err)
	var r report.Result
	assert.NilError(t, json.Unmarshal(data, &r))
	assert.Equal(t, r.Score, r.MaxScore)

	textPath := filepath.Join(dir, "report.txt")
	icmd.RunCommand(bin, "grade", "udp-server", "--ref", "-o", textPath).Assert(t, icmd.Success)
	text, err := os.ReadFile(textPath)
	assert.NilError(t, err)
	assert.Assert(t, !bytes.Contains(text, []byte("\x1b")), "no colour in a file")
}

func TestRef(t *testing.T) {
	icmd.RunCommand(bin, "ref", "udp-server").Assert(t, icmd.Expected{ExitCode: 1, Err: "Usage: udp-server PORT"})
	// A message starting with a dash is an argument, not a flag.
	icmd.RunCommand(bin, "ref", "udp-client", "127.0.0.1", "9", "--not-a-flag").Assert(t, icmd.Success)
}

func TestList(t *testing.T) {
	res := icmd.RunCommand(bin, "list")
	res.Assert(t, icmd.Success)
	for _, want := range []string{"udp-server/log-format", "udp-client/sends-message", "needs udp-server/starts"} {
		assert.Assert(t, is.Contains(res.Stdout(), want))
	}
}
