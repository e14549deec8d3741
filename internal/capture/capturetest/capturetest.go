// Package capturetest holds what tests that capture share: opening a
// capture or skipping where the machine does not allow it, and reading a
// capture back with tshark (or skipping where it is missing).
package capturetest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/internal/capture"
)

// NeedTap opens a Tap, or skips the test where the machine does not allow
// capturing (it fails instead when NETGRADE_REQUIRE_CAPTURE=1). The Tap
// is closed when the test ends.
func NeedTap(t testing.TB) *capture.Tap {
	t.Helper()
	tp, err := capture.Open()
	if err != nil {
		if errors.Is(err, capture.ErrNotPermitted) && os.Getenv("NETGRADE_REQUIRE_CAPTURE") != "1" {
			t.Skipf("SKIPPED: %v: the loopback cannot be captured here (NETGRADE_REQUIRE_CAPTURE=1 makes this a failure)", err)
		}
		t.Fatalf("opening a capture: %v", err)
	}
	t.Cleanup(func() {
		if err := tp.Close(); err != nil {
			t.Errorf("closing the capture: %v", err)
		}
	})
	return tp
}

// NeedTshark skips the test on a machine without tshark (it fails instead
// when NETGRADE_REQUIRE_TSHARK=1).
func NeedTshark(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		if os.Getenv("NETGRADE_REQUIRE_TSHARK") == "1" {
			t.Fatalf("tshark is required (NETGRADE_REQUIRE_TSHARK=1) but not found: %v", err)
		}
		t.Skipf("SKIPPED: tshark not found on PATH (%v): captures cannot be read back; sudo apt-get install tshark", err)
	}
}

// Tshark reads a pcapng file with tshark and returns one row per frame
// that filter keeps ("" keeps every frame), with the fields asked for;
// extra are further options (-d ...).
func Tshark(t testing.TB, file, filter string, fields []string, extra ...string) [][]string {
	t.Helper()
	args := append([]string{"-r", file, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"}, extra...)
	if filter != "" {
		args = append(args, "-Y", filter)
	}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	var rows [][]string
	for _, l := range strings.Split(strings.TrimRight(TsharkText(t, args...), "\n"), "\n") {
		if l != "" {
			rows = append(rows, strings.Split(l, "\t"))
		}
	}
	return rows
}

// TsharkText runs tshark with args and returns what it printed; the test
// fails when tshark does.
func TsharkText(t testing.TB, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("tshark", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// tshark keeps a profile in the home folder: a fresh one per test.
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}
