package observe

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/netgrade/netgrade/internal/poll"
)

// TestMain runs Python as on a student's machine: block-buffered on a pipe.
func TestMain(m *testing.M) {
	os.Unsetenv("PYTHONUNBUFFERED")
	os.Exit(m.Run())
}

// prog is a program a test observes, started as harness starts one (in a
// process group of its own, led by its main process) but without harness,
// which imports this package.
type prog struct {
	cmd      *exec.Cmd
	done     chan struct{} // closed when the main process has exited
	drained  chan struct{} // closed when its stdout is read to the end
	mu       sync.Mutex
	lines    []string
	exitCode int
}

// start starts argv, with its stdout read line by line, and stops it when
// the test ends.
func start(tb testing.TB, argv ...string) *prog {
	tb.Helper()
	r, w, err := os.Pipe()
	require.NoError(tb, err)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		require.NoError(tb, err)
	}
	p := &prog{cmd: cmd, done: make(chan struct{}), drained: make(chan struct{})}
	go func() {
		defer close(p.drained)
		defer r.Close()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
		}
	}()
	go func() {
		_ = cmd.Wait()
		p.exitCode = cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	tb.Cleanup(p.Stop)
	return p
}

// Pid is the program's main process, the leader of its process group.
func (p *prog) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the main process has exited.
func (p *prog) Done() <-chan struct{} { return p.done }

// ExitCode is the main process's exit code, once Done is closed.
func (p *prog) ExitCode() int {
	<-p.done
	return p.exitCode
}

// Stop kills the program's process group and waits for its main process.
func (p *prog) Stop() {
	_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
	<-p.done
}

// Lines returns what the program printed so far.
func (p *prog) Lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.lines)
}

// waitLine waits until the program prints text, its output ends, or d
// passes.
func (p *prog) waitLine(text string, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, err := poll.Wait(ctx, func(context.Context) poll.Result {
		if slices.Contains(p.Lines(), text) {
			return poll.Done()
		}
		select {
		case <-p.drained:
			return poll.Fail(fmt.Errorf("the program's output ended without %q: %q", text, p.Lines()))
		default:
		}
		return poll.Continue("printed %q", p.Lines())
	})
	return err
}

// freePorts returns n ports free for TCP and UDP on 127.0.0.1 a moment
// ago, each found by binding port 0.
func freePorts(tb testing.TB, n int) []int {
	tb.Helper()
	var out []int
	for len(out) < n {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		require.NoError(tb, err)
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err != nil {
			continue // taken over UDP: another one
		}
		u.Close()
		out = append(out, port)
	}
	return out
}
