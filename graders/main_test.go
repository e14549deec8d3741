package graders

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/netgrade/netgrade/reference"
	"github.com/stretchr/testify/require"
)

// init lets the test binary stand in for netgrade when a test of the
// package, internal or external, grades a reference implementation: the
// submission's command is this binary with `ref EXERCISE PORT`, and the
// forking reference re-executes it with its hidden child command. It also
// drops PYTHONUNBUFFERED, which this kind of machine sets and a student's
// does not. (An init function, not TestMain: it must run before any test
// file's TestMain, and in the re-executed child, which runs no test.)
func init() {
	if len(os.Args) > 1 && (os.Args[1] == "ref" || os.Args[1] == reference.ChildCommand) {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code, _ := reference.Dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Unsetenv("PYTHONUNBUFFERED")
}

// NeedPython skips (or, when NETGRADE_REQUIRE_PYTHON=1, fails) a test that
// runs Python submissions on a machine without python3. (Exported for the
// package's external tests.)
func NeedPython(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		if os.Getenv("NETGRADE_REQUIRE_PYTHON") == "1" {
			t.Fatalf("python3 is required (NETGRADE_REQUIRE_PYTHON=1) but not found: %v", err)
		}
		t.Skipf("SKIPPED: python3 not found on PATH (%v): the Python fixtures cannot be graded", err)
	}
}

// ProcessesMentioning lists the running processes, zombies and this test
// binary left out, whose command line holds s (a graded program's file or
// folder), as "PID: COMMAND LINE": what a test finds left behind after a
// grading. (Exported for the package's external tests.)
func ProcessesMentioning(t testing.TB, s string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmd, []byte(s)) {
			continue
		}
		// The state follows the command name, which may hold ") ".
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); len(f) > 0 && f[0] == "Z" {
			continue
		}
		out = append(out, fmt.Sprintf("%d: %s", pid, bytes.ReplaceAll(cmd, []byte{0}, []byte{' '})))
	}
	return out
}
