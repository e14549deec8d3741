package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/internal/clitest"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/sandbox/sandboxtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, os.WriteFile(p, fixture(t, exercise, name), 0o644))
	return p
}

// Command-line mistakes exit 2 with a message that says what to do, and
// never start grading.
func TestUsageErrors(t *testing.T) {
	var ids []string
	for _, e := range course.Exercises() {
		ids = append(ids, e.ID())
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no exercise", []string{"grade"}, "give the exercise to grade"},
		{"unknown exercise", []string{"grade", "udp-srever", "x.py"}, `unknown exercise "udp-srever" (did you mean udp-server?); known exercises: ` + strings.Join(ids, ", ")},
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
			require.Equal(t, exitUsage, code, "stderr: %s", errOut.String())
			require.Contains(t, errOut.String(), tc.want)
			require.Contains(t, errOut.String(), "netgrade --help")
			require.Equal(t, "", out.String(), "nothing graded, nothing reported")
		})
	}
}

func TestGradeReferenceJSON(t *testing.T) {
	res := clitest.Run(bin, "grade", "udp-server", "--ref", "--format", "json")
	res.Assert(t, clitest.Success)
	var r report.Result
	require.NoError(t, json.Unmarshal([]byte(res.Stdout()), &r))
	require.Equal(t, 1, r.Schema)
	require.Equal(t, "udp-server", r.Exercise)
	require.True(t, r.MaxScore > 0, "r.MaxScore > 0")
	require.Equal(t, r.MaxScore, r.Score)
}

func TestGradeExitCodes(t *testing.T) {
	t.Run("passing file", func(t *testing.T) {
		clitest.Run(bin, "grade", "udp-client", fixtureFile(t, "udp-client", "plain.py")).Assert(t, clitest.Expected{ExitCode: 0, Out: "All checks passed."})
	})
	t.Run("failing file", func(t *testing.T) {
		res := clitest.Run(bin, "grade", "udp-client", fixtureFile(t, "udp-client", "first_word.py"))
		res.Assert(t, clitest.Expected{ExitCode: 1, Out: "✘ udp-client/spaces"})
		require.Contains(t, res.Stdout(), "hint:")
		require.NotContains(t, res.Stdout(), "\x1b[", "colour on a pipe")
	})
	t.Run("command with placeholders", func(t *testing.T) {
		clitest.Run(bin, "grade", "udp-client", "--", bin, "ref", "udp-client", "{host}", "{port}", "{message}").Assert(t, clitest.Success)
	})
	t.Run("command without placeholders gets the exercise's arguments", func(t *testing.T) {
		clitest.Run(bin, "grade", "udp-server", "--", bin, "ref", "udp-server").Assert(t, clitest.Success)
	})
}

func TestOutputFile(t *testing.T) {
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "out", "result.json")
	res := clitest.Run(bin, "grade", "udp-server", "--ref", "--format", "text", "--format", "json:"+jsonPath)
	res.Assert(t, clitest.Success)
	require.Contains(t, res.Stdout(), "Score: 12/12")
	data, err := os.ReadFile(jsonPath)
	require.NoError(t, err)
	var r report.Result
	require.NoError(t, json.Unmarshal(data, &r))
	require.Equal(t, r.MaxScore, r.Score)

	textPath := filepath.Join(dir, "report.txt")
	clitest.Run(bin, "grade", "udp-server", "--ref", "-o", textPath).Assert(t, clitest.Success)
	text, err := os.ReadFile(textPath)
	require.NoError(t, err)
	require.False(t, bytes.Contains(text, []byte("\x1b")), "no colour in a file")
}

func TestRef(t *testing.T) {
	clitest.Run(bin, "ref", "udp-server").Assert(t, clitest.Expected{ExitCode: 1, Err: "Usage: udp-server PORT"})
	// A message starting with a dash is an argument, not a flag.
	clitest.Run(bin, "ref", "udp-client", "127.0.0.1", "9", "--not-a-flag").Assert(t, clitest.Success)
}

func TestList(t *testing.T) {
	res := clitest.Run(bin, "list")
	res.Assert(t, clitest.Success)
	for _, want := range []string{"udp-server/log-format", "udp-client/sends-message", "needs udp-server/starts"} {
		require.Contains(t, res.Stdout(), want)
	}
}

// TestListCourse: `netgrade list --course FILE` shows the points,
// visibility and switched-off checks the course file sets, and the totals
// they make.
func TestListCourse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "course.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`exercises:
  - id: udp-server
    file: [udp-server.py, "*udp*serv*.py"]
    checks:
      log-format: {points: 5, visibility: hidden}
      utf8: {enabled: false}
  - id: udp-client
    file: udp-client.py
`), 0o644))
	res := clitest.Run(bin, "list", "--course", path)
	res.Assert(t, clitest.Success)
	out := res.Stdout()
	lines := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[f[0]] = l
		}
	}
	assert.Contains(t, lines["udp-server"], "file: udp-server.py or *udp*serv*.py")
	assert.Regexp(t, `udp-server/log-format\s+format\s+5 pt .*course: 5 pt \(default 2\); hidden`, lines["udp-server/log-format"])
	assert.Regexp(t, `udp-server/utf8\s+encoding\s+off .*switched off by the course`, lines["udp-server/utf8"])
	assert.NotContains(t, out, "tcp-server", "only the course's exercises")

	// The totals are the sums of the points graded, off checks left out.
	points := func(id string) (map[string]float64, float64) {
		ex, err := course.Registry().Get(id)
		require.NoError(t, err)
		m, total := map[string]float64{}, 0.0
		for _, c := range ex.Checks {
			m[c.ID] = c.Points
			total += c.Points
		}
		return m, total
	}
	sp, server := points("udp-server")
	server += 5 - sp["udp-server/log-format"] - sp["udp-server/utf8"]
	_, client := points("udp-client")
	assert.Regexp(t, fmt.Sprintf(`(?m)^  total\s+%g pt\s+\(1 check not graded\)$`, server), out)
	assert.Regexp(t, fmt.Sprintf(`(?m)^  total\s+%g pt\s*$`, client), out)
	assert.Regexp(t, fmt.Sprintf(`course total\s+%g pt\s+2 exercises`, server+client), out)

	res = clitest.Run(bin, "list", "nope", "--course", path)
	res.Assert(t, clitest.Expected{ExitCode: exitUsage, Err: `unknown exercise "nope"`})
}

// TestCourseFileErrors: a course file's mistakes say where they are, with
// no pointer to --help (the command line is right); a missing file is said
// to be missing.
func TestCourseFileErrors(t *testing.T) {
	dir := t.TempDir()
	unclosed := filepath.Join(dir, "unclosed.yaml")
	require.NoError(t, os.WriteFile(unclosed, []byte("name: Test course\nexercises:\n  - id: udp-server\n    file: udp-server.py\n  - id: [udp-client\n    file: udp-client.py\n\n  - id: tcp-server\n    file: tcp-server.py\n"), 0o644))
	tests := []struct {
		name, course, want, not string
	}{
		{"missing", filepath.Join(dir, "nope.yaml"), "course file " + filepath.Join(dir, "nope.yaml") + ": no such file", "not valid"},
		{"unclosed bracket", unclosed, "unclosed.yaml:5:9: this is not valid YAML: this [ is never closed", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{"check", "--course", tc.course, dir}, &out, &errOut)
			require.Equal(t, exitUsage, code)
			require.Contains(t, errOut.String(), tc.want)
			require.NotContains(t, errOut.String(), "--help")
			if tc.not != "" {
				require.NotContains(t, errOut.String(), tc.not)
			}
		})
	}
}

// TestNonUTF8SourcePassesNothing: a source file that is not UTF-8 stops
// Python before it runs a line (with no traceback, only its compile
// error): it passes no check, and the report says why.
func TestNonUTF8SourcePassesNothing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "udp-client.py")
	require.NoError(t, os.WriteFile(p, []byte("import sys\nprint(\"caf\xe9\")\n"), 0o644))
	res := clitest.Run(bin, "grade", "udp-client", p, "--check", "udp-client/no-stdin,udp-client/exits", "--format", "json")
	res.Assert(t, clitest.Expected{ExitCode: 1})
	var r report.Result
	require.NoError(t, json.Unmarshal([]byte(res.Stdout()), &r))
	require.Len(t, r.Checks, 2)
	for _, c := range r.Checks {
		require.NotEqual(t, report.Pass, c.Status, c.ID)
	}
	res = clitest.Run(bin, "grade", "udp-client", p, "--check", "udp-client/exits")
	require.Contains(t, res.Stdout(), "program:     exited with status 1; traceback ends with: SyntaxError: Non-UTF-8 code starting with '\\xe9'")
}

// TestTranscriptInOrder: what a program printed, on either stream, is in
// the transcript in the order it was printed, in every format: a prompt
// printed without a newline comes when it was printed, not when its line
// ended (at the exit), so before the traceback that follows. The program
// waits a moment between the two, so that the order does not depend on how
// fast a loaded machine wakes netgrade's readers (events microseconds
// apart are ordered only that closely; internal/harness tests the stamps
// deterministically).
func TestTranscriptInOrder(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "udp-client.py")
	src := "import sys, time\nsys.stdout.write('Message: ')\nsys.stdout.flush()\ntime.sleep(0.3)\nraise EOFError('EOF when reading a line')\n"
	require.NoError(t, os.WriteFile(p, []byte(src), 0o644))
	jsonPath, mdPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.md")
	res := clitest.Run(bin, "grade", "udp-client", p, "--check", "udp-client/no-stdin", "--format", "json:"+jsonPath, "--format", "markdown:"+mdPath)
	res.Assert(t, clitest.Expected{ExitCode: 1})
	data, err := os.ReadFile(jsonPath)
	require.NoError(t, err)
	var r report.Result
	require.NoError(t, json.Unmarshal(data, &r))
	var order []string
	for _, e := range r.Checks[0].Transcript {
		switch {
		case e.Kind == report.EvStdout && strings.HasPrefix(e.Data, "Message:"):
			order = append(order, "prompt")
		case e.Kind == report.EvStderr && strings.HasPrefix(e.Data, "Traceback"):
			order = append(order, "traceback")
		case e.Kind == report.EvExit:
			order = append(order, "exit")
		}
	}
	require.Equal(t, []string{"prompt", "traceback", "exit"}, order)
	md, err := os.ReadFile(mdPath)
	require.NoError(t, err)
	prompt, tb, exit := strings.Index(string(md), "stdout  Message:"), strings.Index(string(md), "stderr  Traceback"), strings.Index(string(md), "exit    exited")
	require.True(t, prompt >= 0 && prompt < tb && tb < exit, "markdown order: prompt %d, traceback %d, exit %d", prompt, tb, exit)
}
