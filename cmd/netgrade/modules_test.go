package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/graders/gradertest"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// otherPython makes a virtual environment of the python3 on PATH with a
// module of its own (netgrade_day_two) that the python3 on PATH cannot
// import, and puts its bin/ at the end of PATH: an interpreter of the
// machine that has what a program lacks, as a student's venv with Flask
// would be. It returns the environment's python3.
func otherPython(t *testing.T) string {
	t.Helper()
	gradertest.NeedPython(t)
	dir := t.TempDir()
	out, err := exec.Command("python3", "-m", "venv", "--without-pip", dir).CombinedOutput()
	require.NoError(t, err, "python3 -m venv: %s", out)
	site, err := exec.Command(filepath.Join(dir, "bin", "python3"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").Output()
	require.NoError(t, err)
	pkg := filepath.Join(strings.TrimSpace(string(site)), "netgrade_day_two")
	require.NoError(t, os.MkdirAll(pkg, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(pkg, "__init__.py"), nil, 0o644))
	t.Setenv("PATH", os.Getenv("PATH")+string(os.PathListSeparator)+filepath.Join(dir, "bin"))
	return filepath.Join(dir, "bin", "python3")
}

// importingClient is a correct udp-client that first imports a module.
const importingClient = `import socket, sys
import netgrade_day_two

host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(message.encode("utf-8"), (host, port))
`

// A program that cannot import a module another interpreter of the
// machine has is told which, and how to grade with it; graded so, it
// imports it.
func TestCheckNamesTheInterpreterThatHasTheModule(t *testing.T) {
	py := otherPython(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "udp-client.py"), []byte(importingClient), 0o644))

	code, out, _ := runCLI(t, "check", "udp-client", dir)
	require.Equal(t, exitFailed, code, out)
	assert.Contains(t, out, "ModuleNotFoundError: No module named 'netgrade_day_two'")
	assert.Contains(t, out, "The program cannot import netgrade_day_two: python3")
	assert.Contains(t, out, py+" has netgrade_day_two: `netgrade check --python "+py+"`, or `python: "+py+"` in the course file.")
	assert.NotContains(t, out, "The grading machine")

	// Graded so, the program imports the module and sends its datagram
	// (the rest of its grading is the udp-client checks' concern).
	_, out, _ = runCLI(t, "check", "--python", py, "udp-client", dir)
	assert.NotContains(t, out, "ModuleNotFoundError", out)
	assert.Contains(t, out, "✔ udp-client/datagram", out)
}

// Without an interpreter that has it, the advice says how to install it.
func TestGradeSaysNoInterpreterHasTheModule(t *testing.T) {
	gradertest.NeedPython(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "udp-client.py")
	require.NoError(t, os.WriteFile(file, []byte(importingClient), 0o644))
	code, out, _ := runCLI(t, "grade", "udp-client", file)
	require.Equal(t, exitFailed, code, out)
	assert.Contains(t, out, "nor does any other Python on this machine: install it (`pip install netgrade_day_two`")
}

// stubSandbox is a sandbox whose grading returns fixed results: what a
// unit runner inside a container would have sent back.
type stubSandbox struct {
	sandbox.Sandbox
	results []report.Result
}

func (s stubSandbox) Name() string { return sandbox.Docker }
func (s stubSandbox) Grade(context.Context, sandbox.Unit) ([]report.Result, error) {
	return append([]report.Result(nil), s.results...), nil
}

// A batch names the grading machine's interpreter or image that lacks the
// module, and what the instructor can do.
func TestBatchNamesWhatLacksTheModule(t *testing.T) {
	failed := report.Result{Command: []string{"python3", "rest-api.py", "{port}"}, Checks: []report.Check{{
		ID: "rest-api/starts", Status: report.Fail, Hint: "The grading machine has no fastapi: ask for it to be installed, or use http.server from the standard library.",
		Traceback: "ModuleNotFoundError: No module named 'fastapi'",
	}}}
	for _, tc := range []struct {
		image string
		want  []string
	}{
		{sandbox.LocalImage, []string{"the grading machine's Python (python3 in the docker image netgrade-python:local) does not have it", "(python3-fastapi)", "use http.server", "For the instructor: rebuild it with `FORCE=1 make sandbox-image`"}},
		{"python:3.12-slim", []string{"(python3 in the docker image python:3.12-slim)", "`make sandbox-image` builds netgrade-python:local with Flask, FastAPI and uvicorn) and name it with --image"}},
	} {
		ms := moduleSandbox{Sandbox: stubSandbox{results: []report.Result{failed}}, advice: pyenv.NewAdvisor(nil), image: tc.image}
		rs, err := ms.Grade(context.Background(), sandbox.Unit{})
		require.NoError(t, err)
		for _, w := range tc.want {
			assert.Contains(t, rs[0].Checks[0].Hint, w, tc.image)
		}
		assert.NotContains(t, rs[0].Checks[0].Hint, "ask for it to be installed, or", "the engine's generic hint is replaced")
	}

	// A sandbox on this machine's interpreters (process, netns) names the
	// one that ran the program, and one that has the module.
	py := otherPython(t)
	host := failed
	host.Checks = []report.Check{{ID: "udp-client/sends", Status: report.Fail, Traceback: "ModuleNotFoundError: No module named 'netgrade_day_two'"}}
	ms := moduleSandbox{Sandbox: stubSandbox{results: []report.Result{host}}, advice: pyenv.NewAdvisor(nil)}
	rs, err := ms.Grade(context.Background(), sandbox.Unit{})
	require.NoError(t, err)
	real, err := pyenv.NewInterpreters().Resolve(context.Background(), "python3")
	require.NoError(t, err)
	assert.Contains(t, rs[0].Checks[0].Hint, "the grading machine's Python ("+real+") does not have it")
	assert.Contains(t, rs[0].Checks[0].Hint, "For the instructor: "+py+" has netgrade_day_two; grade with `--python "+py+"`")
}
