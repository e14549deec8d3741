package graders

import (
	"context"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"

	"github.com/netgrade/netgrade/reference"
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
