// Package harness starts a submitted program, captures what it prints as
// timestamped lines, observes its sockets and process tree through /proc,
// and stops it with everything it started. It knows nothing of exercises or
// checks: graders build on it.
package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// Spec says how to start a program.
type Spec struct {
	// Argv is the command line; Argv[0] naming a Python interpreter is
	// resolved to the real binary through Interpreters.
	Argv []string
	// Dir is the working directory (default: the directory of the grader).
	Dir string
	// Env is added to the base environment (KEY=VALUE).
	Env []string
	// OutputCap bounds what is kept of each stream (default DefaultOutputCap).
	OutputCap int
	// NoPTY gives stdout a pipe instead of a pseudo-terminal.
	NoPTY bool
}

// Stop grace periods: how long a program gets after SIGINT, then after
// SIGTERM, before the next signal.
const (
	InterruptGrace = 1 * time.Second
	TerminateGrace = 500 * time.Millisecond
	// outputDrain bounds how long Stop and WaitOutput wait for the output to
	// be read to its end once the program is gone. It returns as soon as the
	// streams end; only a pseudo-terminal held open by an escaped process
	// waits it out. It is generous, so that on a loaded machine nothing the
	// program printed before it ended is judged missing.
	outputDrain = 3 * time.Second
)

// ExitStatus is how a program ended.
type ExitStatus struct {
	// Exited is true once the program has ended.
	Exited bool
	// Code is the exit code, -1 when killed by a signal.
	Code int
	// Signal names the signal that ended it, if any.
	Signal string
	// StoppedBy names the signal netgrade sent to stop it, if it had to.
	StoppedBy string
	// Time is when the exit was seen.
	Time time.Time
}

// String says how the program ended, in words for a report.
func (e ExitStatus) String() string {
	switch {
	case !e.Exited:
		return "still running"
	case e.Signal != "" && e.StoppedBy != "":
		return fmt.Sprintf("stopped by netgrade with %s", e.StoppedBy)
	case e.Signal != "":
		return fmt.Sprintf("killed by %s", e.Signal)
	case e.StoppedBy != "":
		return fmt.Sprintf("exited with status %d after netgrade sent %s", e.Code, e.StoppedBy)
	default:
		return fmt.Sprintf("exited with status %d", e.Code)
	}
}

// StartError is returned when a program could not be started at all.
// Netgrade is true when the fault is the grader's (no interpreter), false
// when it is the submission's (file missing, not executable).
type StartError struct {
	Err      error
	Netgrade bool
}

func (e *StartError) Error() string { return e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

// Process is a running (or ended) program under observation.
type Process struct {
	spec    Spec
	argv    []string
	cmd     *exec.Cmd
	out     *Output
	started time.Time
	pgid    int

	done     chan struct{}
	mu       sync.Mutex
	exit     ExitStatus
	stopping string
	stopAt   time.Time
	closers  []*os.File
	stopOnce sync.Once
}

// baseEnv is the environment of a graded program: deterministic, UTF-8, and
// without PYTHONUNBUFFERED, as on a student's machine.
func baseEnv() []string {
	env := []string{"LC_ALL=C.UTF-8", "LANG=C.UTF-8", "TERM=dumb", "PYTHONDONTWRITEBYTECODE=1"}
	for _, k := range []string{"PATH", "HOME", "TZ", "USER", "TMPDIR", "SYSTEMROOT"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Start starts the program of spec in its own process group, with stdin
// on /dev/null, stdout on a pseudo-terminal (so that C stdio and Python
// line-buffer as on a terminal) and stderr on a pipe.
func Start(ctx context.Context, spec Spec, interp *Interpreters) (*Process, error) {
	if len(spec.Argv) == 0 {
		return nil, &StartError{Err: errors.New("empty command line"), Netgrade: true}
	}
	argv := append([]string(nil), spec.Argv...)
	if interp != nil && isPython(argv[0]) {
		real, err := interp.Resolve(ctx, argv[0])
		if err != nil {
			return nil, &StartError{Err: err, Netgrade: true}
		}
		argv[0] = real
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = spec.Dir
	cmd.Env = append(baseEnv(), spec.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := NewOutput(spec.OutputCap)
	p := &Process{spec: spec, argv: argv, cmd: cmd, out: out, done: make(chan struct{})}

	var childEnds []*os.File
	var stdoutR *os.File
	if spec.NoPTY {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, &StartError{Err: fmt.Errorf("stdout pipe: %w", err), Netgrade: true}
		}
		stdoutR, cmd.Stdout = r, w
		childEnds = append(childEnds, w)
	} else {
		ptmx, tty, err := pty.Open()
		if err != nil {
			return nil, &StartError{Err: fmt.Errorf("pseudo-terminal: %w", err), Netgrade: true}
		}
		if err := rawOutput(tty); err != nil {
			ptmx.Close()
			tty.Close()
			return nil, &StartError{Err: fmt.Errorf("pseudo-terminal: %w", err), Netgrade: true}
		}
		stdoutR, cmd.Stdout = ptmx, tty
		childEnds = append(childEnds, tty)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		stdoutR.Close()
		closeAll(childEnds)
		return nil, &StartError{Err: fmt.Errorf("stderr pipe: %w", err), Netgrade: true}
	}
	cmd.Stderr = errW
	childEnds = append(childEnds, errW)

	if err := cmd.Start(); err != nil {
		stdoutR.Close()
		errR.Close()
		closeAll(childEnds)
		return nil, &StartError{Err: fmt.Errorf("cannot start %s: %w", strings.Join(spec.Argv, " "), err)}
	}
	p.started = time.Now()
	p.pgid = cmd.Process.Pid
	closeAll(childEnds)
	limit(p.pgid)
	p.closers = []*os.File{stdoutR, errR}
	out.openStream()
	out.openStream()
	go out.read(stdoutR, Stdout, out.closeStream)
	go out.read(errR, Stderr, out.closeStream)
	go p.wait()
	return p, nil
}

// rawOutput turns off output post-processing on a terminal, so that "\n" is
// not turned into "\r\n" and the bytes read are the bytes printed.
func rawOutput(tty *os.File) error {
	t, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		return err
	}
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ICANON
	return unix.IoctlSetTermios(int(tty.Fd()), unix.TCSETS, t)
}

// limit applies resource limits to a just-started program: no core files,
// bounded file size and address space. Best effort: a failure only means
// the limit is not applied.
func limit(pid int) {
	_ = unix.Prlimit(pid, unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}, nil)
	_ = unix.Prlimit(pid, unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: 64 << 20, Max: 64 << 20}, nil)
	_ = unix.Prlimit(pid, unix.RLIMIT_AS, &unix.Rlimit{Cur: 4 << 30, Max: 4 << 30}, nil)
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

func (p *Process) wait() {
	err := p.cmd.Wait()
	st := ExitStatus{Exited: true, Time: time.Now()}
	if ps := p.cmd.ProcessState; ps != nil {
		st.Code = ps.ExitCode()
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			st.Signal = unix.SignalName(ws.Signal())
			st.Code = -1
		}
	} else if err != nil {
		st.Code = -1
	}
	p.mu.Lock()
	st.StoppedBy = p.stopping
	p.exit = st
	p.mu.Unlock()
	close(p.done)
}

// Argv returns the command line as run (the interpreter resolved).
func (p *Process) Argv() []string { return append([]string(nil), p.argv...) }

// Pid returns the process ID of the program (also its process group ID).
func (p *Process) Pid() int { return p.pgid }

// Started returns when the program was started.
func (p *Process) Started() time.Time { return p.started }

// Output returns the program's captured output.
func (p *Process) Output() *Output { return p.out }

// Done is closed when the program has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Running reports whether the program has not exited yet.
func (p *Process) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Exit returns how the program ended (Exited false while it runs).
func (p *Process) Exit() ExitStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exit
}

// StopRequested returns when netgrade first signalled the program to stop,
// or the zero time if it never had to.
func (p *Process) StopRequested() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopAt
}

// Wait blocks until the program exits or ctx is done.
func (p *Process) Wait(ctx context.Context) (ExitStatus, error) {
	select {
	case <-p.done:
		return p.Exit(), nil
	case <-ctx.Done():
		return p.Exit(), ctx.Err()
	}
}

// WaitOutput blocks until the program has exited and its output streams
// are read to the end, or ctx is done. Use it before judging everything a
// program printed.
func (p *Process) WaitOutput(ctx context.Context) error {
	if _, err := p.Wait(ctx); err != nil {
		return err
	}
	dctx, cancel := context.WithTimeout(ctx, outputDrain)
	defer cancel()
	if err := p.out.WaitClosed(dctx); err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// Stop ends the program and every process it started: SIGINT to the whole
// process group (Python flushes its buffers on KeyboardInterrupt), then
// SIGTERM, then SIGKILL, each after its grace period; processes that left
// the group are found through /proc and killed too. It returns how the
// program ended. Stop is safe to call more than once.
func (p *Process) Stop() ExitStatus {
	p.stopOnce.Do(p.stop)
	return p.Exit()
}

func (p *Process) stop() {
	steps := []struct {
		sig   syscall.Signal
		grace time.Duration
	}{{syscall.SIGINT, InterruptGrace}, {syscall.SIGTERM, TerminateGrace}, {syscall.SIGKILL, 2 * time.Second}}
	// Every process of the tree seen since stopping began stays a target:
	// a child that left the process group (setsid) and ignores a signal is
	// no longer anyone's descendant once its parent has died, and would
	// otherwise outlive the grading.
	seen := map[int]ProcInfo{}
	for _, s := range steps {
		for _, d := range descendants(p.pgid) {
			if _, ok := seen[d.PID]; !ok {
				seen[d.PID] = d
			}
		}
		left := aliveOf(seen)
		if !p.Running() && len(left) == 0 && !groupAlive(p.pgid) {
			break
		}
		if p.Running() {
			p.mu.Lock()
			p.stopping = unix.SignalName(s.sig)
			if p.stopAt.IsZero() {
				p.stopAt = time.Now()
			}
			p.mu.Unlock()
		}
		_ = syscall.Kill(-p.pgid, s.sig)
		for _, pid := range left {
			_ = syscall.Kill(pid, s.sig)
		}
		deadline := time.NewTimer(s.grace)
		ended := p.waitGone(deadline.C, seen)
		deadline.Stop()
		if ended {
			break
		}
	}
	<-p.done
	ctx, cancel := context.WithTimeout(context.Background(), outputDrain)
	defer cancel()
	if p.out.WaitClosed(ctx) != nil {
		for _, f := range p.closers {
			f.Close()
		}
	}
}

// aliveOf returns the PIDs of the processes of seen that still run.
func aliveOf(seen map[int]ProcInfo) []int {
	var out []int
	for pid, info := range seen {
		if info.Alive() {
			out = append(out, pid)
		}
	}
	return out
}

// waitGone waits until the program, its whole group and every process of
// seen are gone, or until the timer fires; it reports whether they are gone.
func (p *Process) waitGone(timeout <-chan time.Time, seen map[int]ProcInfo) bool {
	select {
	case <-p.done:
	case <-timeout:
		return false
	}
	// The leader is gone; its group and its escaped children may remain.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for groupAlive(p.pgid) || len(aliveOf(seen)) > 0 {
		select {
		case <-timeout:
			return false
		case <-tick.C:
		}
	}
	return true
}

// groupAlive reports whether any process is left in process group pgid.
func groupAlive(pgid int) bool {
	err := syscall.Kill(-pgid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
