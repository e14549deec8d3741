// Package clitest runs a command for a test and checks its exit code and
// output: what the tests of netgrade's command line share.
package clitest

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// DefaultTimeout bounds a command run by Run.
const DefaultTimeout = 5 * time.Minute

// Result is what a command did: its exit code and what it printed.
type Result struct {
	// Cmd is the command that ran.
	Cmd *exec.Cmd
	// ExitCode is the command's exit status; -1 when it was killed.
	ExitCode int
	// Err is the error of a command that could not start or timed out.
	Err            error
	stdout, stderr bytes.Buffer
	combined       bytes.Buffer
}

// Stdout returns what the command wrote to its standard output.
func (r *Result) Stdout() string { return r.stdout.String() }

// Stderr returns what the command wrote to its standard error.
func (r *Result) Stderr() string { return r.stderr.String() }

// Combined returns both outputs, interleaved as they were read: each
// stream in its order, the lines of one written just before those of the
// other possibly after them.
func (r *Result) Combined() string { return r.combined.String() }

// Expected is what a test asks of a Result: the exit code, and text each
// output must contain (empty: anything).
type Expected struct {
	ExitCode int
	Out, Err string
}

// Success is a command that exits 0.
var Success = Expected{}

// Assert fails the test when the result is not what exp says, showing both
// outputs.
func (r *Result) Assert(t testing.TB, exp Expected) {
	t.Helper()
	require.NoError(t, r.Err, "%s\nstdout:\n%s\nstderr:\n%s", r.Cmd, r.Stdout(), r.Stderr())
	require.Equal(t, exp.ExitCode, r.ExitCode, "exit code of %s\nstdout:\n%s\nstderr:\n%s", r.Cmd, r.Stdout(), r.Stderr())
	if exp.Out != "" {
		assert.Contains(t, r.Stdout(), exp.Out, "stdout of %s", r.Cmd)
	}
	if exp.Err != "" {
		assert.Contains(t, r.Stderr(), exp.Err, "stderr of %s", r.Cmd)
	}
}

// Run runs name with args until it ends or DefaultTimeout passes.
func Run(name string, args ...string) *Result {
	return RunTimeout(DefaultTimeout, name, args...)
}

// RunTimeout runs name with args until it ends or d passes (then it is
// killed and Err says so).
func RunTimeout(d time.Duration, name string, args ...string) *Result {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = time.Second
	return RunCmd(ctx, cmd)
}

// RunEnv runs name with args, with env as its whole environment, until it
// ends or d passes.
func RunEnv(d time.Duration, env []string, name string, args ...string) *Result {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.WaitDelay = time.Second
	return RunCmd(ctx, cmd)
}

// RunCmd runs a prepared command (its Stdout and Stderr are replaced)
// whose context is ctx. Set cmd.WaitDelay when the command may leave
// children holding its outputs open.
func RunCmd(ctx context.Context, cmd *exec.Cmd) *Result {
	r := &Result{Cmd: cmd}
	mu := &sync.Mutex{}
	cmd.Stdout = &teeWriter{mu: mu, own: &r.stdout, all: &r.combined}
	cmd.Stderr = &teeWriter{mu: mu, own: &r.stderr, all: &r.combined}
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.ExitCode, r.Err = -1, ctx.Err()
	case errors.As(err, &exit):
		r.ExitCode = exit.ExitCode()
	case err != nil:
		r.ExitCode, r.Err = -1, err
	}
	return r
}

// teeWriter writes into one output's buffer and the combined one, under a
// lock the two outputs share (exec copies them in two goroutines).
type teeWriter struct {
	mu       *sync.Mutex
	own, all *bytes.Buffer
}

func (w *teeWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.own.Write(p)
	return w.all.Write(p)
}
