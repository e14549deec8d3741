package pyenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/internal/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakePython writes an executable named name in dir that answers the
// probe as an interpreter with the given modules would (exit 0 when the
// module asked for, its last argument, is one of them), and logs each
// question to dir/name.log.
func fakePython(t *testing.T, dir, name string, modules ...string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	script := "#!/bin/sh\necho \"$3\" >> '" + p + ".log'\ncase \"$3\" in\n"
	for _, m := range modules {
		script += m + ") exit 0 ;;\n"
	}
	script += "esac\nexit 1\n"
	require.NoError(t, os.WriteFile(p, []byte(script), 0o755))
	return p
}

// questions returns how many times a fake interpreter was asked.
func questions(t *testing.T, p string) int {
	data, err := os.ReadFile(p + ".log")
	if os.IsNotExist(err) {
		return 0
	}
	require.NoError(t, err)
	return strings.Count(string(data), "\n")
}

func TestMissingModule(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"ModuleNotFoundError: No module named 'fastapi'", "fastapi"},
		{"ModuleNotFoundError: No module named 'flask.json'", "flask"},
		{"ImportError: cannot import name 'x' from 'flask'", ""},
		{"ModuleNotFoundError: No module named 'a;rm -rf'", ""},
		{"", ""},
	} {
		assert.Equal(t, tc.want, MissingModule(tc.line), tc.line)
	}
}

func TestCandidatesOrderAndDeduplication(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	fakePython(t, a, "python3")
	fakePython(t, a, "python3.9")
	fakePython(t, a, "python3.12")
	fakePython(t, a, "python3-config") // not an interpreter's name
	require.NoError(t, os.Symlink(filepath.Join(a, "python3.12"), filepath.Join(b, "python3")))
	got := Candidates(a + string(os.PathListSeparator) + b)
	var mine []string
	for _, c := range got {
		if strings.HasPrefix(c, a) || strings.HasPrefix(c, b) {
			mine = append(mine, c)
		}
	}
	// b/python3 is python3.12 under another name: offered once, by the
	// first name met (PATH's python3 entries come before versioned ones).
	assert.Equal(t, []string{filepath.Join(a, "python3"), filepath.Join(b, "python3"), filepath.Join(a, "python3.9")}, mine[:3])
	assert.NotContains(t, mine, filepath.Join(a, "python3.12"))
	assert.NotContains(t, mine, filepath.Join(a, "python3-config"))
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		assert.Equal(t, "/usr/bin/python3", got[0], "Debian's interpreter is offered first")
	}
}

func TestFinderHavingCachesAndLeavesOutTheOneUsed(t *testing.T) {
	dir := t.TempDir()
	used := fakePython(t, dir, "python3.11")
	debian := fakePython(t, dir, "python3", "flask", "fastapi")
	other := fakePython(t, dir, "python3.12", "fastapi")
	f := NewFinder([]string{debian, used, other})
	ctx := context.Background()
	for _, tc := range []struct {
		module string
		want   []string
	}{
		{"fastapi", []string{debian, other}},
		{"flask", []string{debian}},
		{"pytz", nil},
		{"no such", nil},
	} {
		assert.Equal(t, tc.want, f.Having(ctx, tc.module, used), tc.module)
	}
	// Asked again: answered from the cache, nothing run.
	before := questions(t, debian)
	assert.Equal(t, []string{debian, other}, f.Having(ctx, "fastapi", used))
	assert.Equal(t, []string{other}, f.Having(ctx, "fastapi", debian), "the interpreter that ran the program is left out")
	assert.Equal(t, before, questions(t, debian))
	assert.Equal(t, 3, before, "one question per module: fastapi, flask, pytz")
}

// TestHasRealPython asks a real interpreter for a module of the standard
// library and for one that exists nowhere.
func TestHasRealPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("NETGRADE_REQUIRE_PYTHON") == "1" {
			t.Fatalf("python3 is required (NETGRADE_REQUIRE_PYTHON=1) but not found: %v", err)
		}
		t.Skipf("SKIPPED: python3 not found on PATH (%v): interpreters are not asked for real; set NETGRADE_REQUIRE_PYTHON=1 to make this a failure", err)
	}
	t.Setenv("PYTHONPATH", t.TempDir()) // removed for the probe: harmless
	assert.True(t, Has(context.Background(), py, "socketserver"))
	assert.False(t, Has(context.Background(), py, "netgrade_no_such_module"))
	assert.False(t, Has(context.Background(), filepath.Join(t.TempDir(), "python3"), "socketserver"), "an interpreter that cannot run has nothing")
}

func TestAdvice(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  string
		want []string
	}{
		{"local, another has it", Local("fastapi", "python3 (/opt/py/bin/python3.11)", "netgrade check", []string{"/usr/bin/python3"}),
			[]string{"/usr/bin/python3 has fastapi: `netgrade check --python /usr/bin/python3`, or `python: /usr/bin/python3` in the course file.", "python3 (/opt/py/bin/python3.11), which ran it, does not have it"}},
		{"local, none has it", Local("flask", "python3", "netgrade check", nil),
			[]string{"nor does any other Python on this machine", "`pip install flask`", "`sudo apt-get install python3-flask`", "use http.server from the standard library"}},
		{"local pytz", Local("pytz", "python3", "netgrade grade", nil), []string{"python3-tz", "use zoneinfo"}},
		{"local, interpreter unknown", Local("flask", "", "netgrade check", nil), []string{"The program cannot import flask: the Python that ran it does not have it, nor"}},
		{"grading, interpreter unknown", Grader("flask", "", "", nil), []string{"The program cannot import flask: the grading machine's Python does not have it."}},
		{"grading image", Grader("fastapi", "python3 in the docker image netgrade-python:local", "rebuild it with `make sandbox-image`.", nil),
			[]string{"the grading machine's Python (python3 in the docker image netgrade-python:local) does not have it", "(python3-fastapi)", "For the instructor: rebuild it"}},
		{"grading machine, another has it", Grader("flask", "/usr/local/bin/python3.12", "", []string{"/usr/bin/python3"}),
			[]string{"For the instructor: /usr/bin/python3 has flask; grade with `--python /usr/bin/python3`"}},
	} {
		for _, w := range tc.want {
			assert.Contains(t, tc.got, w, tc.name)
		}
	}
}

func TestExplainReplacesTheHintOfAnImportFailure(t *testing.T) {
	res := report.Result{Checks: []report.Check{
		{ID: "rest-api/starts", Status: report.Fail, Hint: "The grading machine has no fastapi: ask for it to be installed.", Traceback: "ModuleNotFoundError: No module named 'fastapi'"},
		{ID: "rest-api/list", Status: report.Skip, Traceback: "ModuleNotFoundError: No module named 'fastapi'"},
		{ID: "rest-api/other", Status: report.Fail, Hint: "keep", Traceback: "ValueError: x"},
		{ID: "rest-api/again", Status: report.Fail, Hint: "old", Traceback: "ModuleNotFoundError: No module named 'fastapi.responses'"},
	}}
	asked := 0
	changed := Explain(&res, func(m string) string { asked++; return "advice for " + m })
	assert.True(t, changed)
	assert.Equal(t, 1, asked, "once per module")
	assert.Equal(t, []string{"advice for fastapi", "", "keep", "advice for fastapi"},
		[]string{res.Checks[0].Hint, res.Checks[1].Hint, res.Checks[2].Hint, res.Checks[3].Hint})
	assert.False(t, Explain(&res, func(string) string { return "" }), "no advice, no change")
}
