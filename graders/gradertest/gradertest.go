// Package gradertest holds what the tests of the graders' packages share:
// finding python3 (or failing where it is required) and finding processes
// a grading left behind.
package gradertest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// NeedPython skips (or, when NETGRADE_REQUIRE_PYTHON=1, fails) a test that
// runs Python submissions on a machine without python3.
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
// grading.
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
