package clitest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name           string
		d              time.Duration
		script         string
		code           int
		out, err, both string
		failed         bool
	}{
		{"success", time.Minute, "echo out", 0, "out\n", "", "out\n", false},
		{"exit code and both outputs", time.Minute, "echo out; echo err >&2; exit 3", 3, "out\n", "err\n", "out\nerr\n", false},
		{"timeout", 50 * time.Millisecond, "sleep 10", -1, "", "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := RunTimeout(tc.d, "sh", "-c", tc.script)
			require.Equal(t, tc.code, r.ExitCode)
			require.Equal(t, tc.out, r.Stdout())
			require.Equal(t, tc.err, r.Stderr())
			// The two streams are read by two goroutines: the lines of one
			// may come before those of the other whatever the order they
			// were written in, but every line is there, whole.
			require.ElementsMatch(t, strings.SplitAfter(tc.both, "\n"), strings.SplitAfter(r.Combined(), "\n"))
			require.Equal(t, tc.failed, r.Err != nil)
		})
	}
}

func TestAssertFails(t *testing.T) {
	r := Run("sh", "-c", "echo nope; exit 1")
	var ft fakeT
	func() {
		defer func() { recover() }()
		r.Assert(&ft, Expected{ExitCode: 0})
	}()
	require.True(t, ft.failed, "a wrong exit code fails the test")
	ft = fakeT{}
	r.Assert(&ft, Expected{ExitCode: 1, Out: "yes"})
	require.True(t, ft.failed, "missing output fails the test")
	ft = fakeT{}
	r.Assert(&ft, Expected{ExitCode: 1, Out: "nope"})
	require.False(t, ft.failed)
}

// fakeT records a failure instead of ending the test; FailNow panics to
// stop the assertion as runtime.Goexit would.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper()                           {}
func (f *fakeT) Name() string                      { return "fake" }
func (f *fakeT) Errorf(format string, args ...any) { f.failed = true }
func (f *fakeT) FailNow()                          { f.failed = true; panic("FailNow") }

func TestRunEnv(t *testing.T) {
	r := RunEnv(time.Minute, []string{"GREETING=hi"}, "/bin/sh", "-c", "echo $GREETING; echo ${HOME:-no home}")
	require.Equal(t, 0, r.ExitCode)
	require.Equal(t, "hi\nno home\n", r.Stdout(), "the environment is the one given, whole")
}
