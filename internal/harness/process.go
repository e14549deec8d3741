// Package harness starts a submitted program, captures what it prints as
// timestamped lines, and stops it with everything it started, within the
// limits it was given. It knows nothing of exercises or checks (graders
// build on it), of the language a program is written in (a Runtime, such
// as pyenv's, tells it), or of how to watch a running program's sockets
// and readiness (package observe does, and tells it which processes are
// left to stop).
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
	// Argv is the command line; the Runtime given to Start resolves
	// Argv[0] (a Python interpreter to its real binary).
	Argv []string
	// Dir is the working directory (default: the directory of the grader).
	Dir string
	// Env is added to the base environment (KEY=VALUE).
	Env []string
	// OutputCap bounds what is kept of each stream (default DefaultOutputCap).
	OutputCap int
	// NoPTY gives stdout a pipe instead of a pseudo-terminal.
	NoPTY bool
	// Limits bound the program's memory, processes and output; zero fields
	// take DefaultLimits.
	Limits Limits
	// NoCgroup starts the program without a cgroup of its own even where
	// netgrade could make one: it is then contained as where cgroups are
	// unavailable (subreaper, process group, rlimits).
	NoCgroup bool
}

// Stop grace periods: how long a program gets after SIGINT, then after
// SIGTERM, before the next signal.
const (
	InterruptGrace = 1 * time.Second
	TerminateGrace = 500 * time.Millisecond
	// killGrace bounds how long Stop keeps killing what is left of a
	// program after SIGKILL: processes forked while the others died.
	killGrace = 5 * time.Second
	// crowd is how many processes a program may run for Stop to interrupt
	// them first. A program with more (a fork bomb) gets SIGKILL at once:
	// SIGINT would wake them all at the same moment, each to print its
	// traceback, and take the machine's CPUs for seconds. A forking server
	// serving its clients stays far below it.
	crowd = 64
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
	// Limit is the limit of netgrade's the program ran into, if any: the
	// reason it was killed or could not go on.
	Limit LimitHit
}

// String says how the program ended, in words for a report, with the limit
// it ran into if any.
func (e ExitStatus) String() string {
	var s string
	switch {
	case !e.Exited:
		return "still running"
	case e.Signal != "" && e.StoppedBy != "":
		s = fmt.Sprintf("stopped by netgrade with %s", e.StoppedBy)
	case e.Signal != "":
		s = fmt.Sprintf("killed by %s", e.Signal)
	case e.StoppedBy != "":
		s = fmt.Sprintf("exited with status %d after netgrade sent %s", e.Code, e.StoppedBy)
	default:
		s = fmt.Sprintf("exited with status %d", e.Code)
	}
	if l := e.Limit.String(); l != "" {
		s += ": " + l
	}
	return s
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
	rt      Runtime
	argv    []string
	cmd     *exec.Cmd
	out     *Output
	started time.Time
	pgid    int

	sup     *supervisor
	limits  Limits
	mark    string
	cg      *cgroup
	contain Containment
	// shared are the counters of the limits of netgrade's own cgroup when
	// the program started.
	shared sharedCounters

	done     chan struct{}
	mu       sync.Mutex
	exit     ExitStatus
	hit      LimitHit
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

// Runtime is what the harness asks of the language a program is written
// in; pyenv.Interpreters answers for Python.
type Runtime interface {
	// Executable returns what to run for argv[0]: a Python interpreter's
	// real binary instead of a shim, or argv0 itself. An error means the
	// runtime is missing (the grader's fault).
	Executable(ctx context.Context, argv0 string) (string, error)
	// OutOfMemory reports whether what the program printed on stderr says
	// it failed to allocate memory, which is how a memory limit enforced
	// per process shows (Python: a MemoryError traceback).
	OutOfMemory(stderr []Line) bool
}

// Start starts the program of spec in its own process group, with stdin
// on /dev/null, stdout on a pseudo-terminal (so that C stdio and Python
// line-buffer as on a terminal) and stderr on a pipe. Where netgrade may
// create cgroups, the program starts in a cgroup of its own with the
// memory and process limits of spec; elsewhere netgrade, as the child
// subreaper of its programs, inherits whatever they leave behind, and the
// limits are rlimits. Containment says which. rt, when not nil, resolves
// the command and explains an exit (see Runtime).
func Start(ctx context.Context, spec Spec, rt Runtime) (*Process, error) {
	return startWith(ctx, spec, rt, theSupervisor())
}

// startWith is Start under a given supervisor.
func startWith(ctx context.Context, spec Spec, rt Runtime, sup *supervisor) (*Process, error) {
	if len(spec.Argv) == 0 {
		return nil, &StartError{Err: errors.New("empty command line"), Netgrade: true}
	}
	argv := append([]string(nil), spec.Argv...)
	if rt != nil {
		real, err := rt.Executable(ctx, argv[0])
		if err != nil {
			return nil, &StartError{Err: err, Netgrade: true}
		}
		argv[0] = real
	}
	p := &Process{spec: spec, rt: rt, argv: argv, out: NewOutput(spec.OutputCap), done: make(chan struct{}),
		sup: sup, limits: spec.Limits.withDefaults(), mark: sup.next()}

	var childEnds []*os.File
	var stdoutR, stdoutW *os.File
	if spec.NoPTY {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, &StartError{Err: fmt.Errorf("stdout pipe: %w", err), Netgrade: true}
		}
		stdoutR, stdoutW = r, w
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
		stdoutR, stdoutW = ptmx, tty
	}
	childEnds = append(childEnds, stdoutW)
	errR, errW, err := os.Pipe()
	if err != nil {
		stdoutR.Close()
		closeAll(childEnds)
		return nil, &StartError{Err: fmt.Errorf("stderr pipe: %w", err), Netgrade: true}
	}
	childEnds = append(childEnds, errW)

	if err := p.startContained(stdoutW, errW); err != nil {
		stdoutR.Close()
		errR.Close()
		closeAll(childEnds)
		return nil, &StartError{Err: fmt.Errorf("cannot start %s: %w", strings.Join(spec.Argv, " "), err)}
	}
	p.started = time.Now()
	p.pgid = p.cmd.Process.Pid
	closeAll(childEnds)
	p.limit()
	p.shared = p.sup.shared.counters()
	p.closers = []*os.File{stdoutR, errR}
	p.out.openStream()
	p.out.openStream()
	go p.out.read(p.limited(stdoutR, Stdout), Stdout, p.out.closeStream)
	go p.out.read(p.limited(errR, Stderr), Stderr, p.out.closeStream)
	go p.wait()
	return p, nil
}

// startContained starts the program in a cgroup of its own when it can,
// else without; a start in a cgroup that fails while one without succeeds
// means the kernel refuses cgroups here, and later programs do not try.
func (p *Process) startContained(stdout, stderr *os.File) error {
	var cgErr error
	if p.spec.NoCgroup {
		cgErr = errors.New("the program was started without one (NoCgroup)")
	} else {
		p.cg, cgErr = p.sup.cgroupFor(p.mark, p.limits)
	}
	if p.cg != nil {
		err := p.startIn(p.cg, stdout, stderr)
		if err == nil {
			p.contain = p.sup.containment(p.cg, nil, p.limits)
			return nil
		}
		_ = p.cg.remove()
		p.cg = nil
		if err2 := p.startIn(nil, stdout, stderr); err2 != nil {
			return err2
		}
		p.sup.refuse(err)
		p.contain = p.sup.containment(nil, fmt.Errorf("the kernel refused to start the program in a cgroup: %w", err), p.limits)
		return nil
	}
	if err := p.startIn(nil, stdout, stderr); err != nil {
		return err
	}
	p.contain = p.sup.containment(nil, cgErr, p.limits)
	return nil
}

// startIn starts the program, directly in cgroup cg when it is not nil.
func (p *Process) startIn(cg *cgroup, stdout, stderr *os.File) error {
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Dir = p.spec.Dir
	cmd.Env = append(append(baseEnv(), p.spec.Env...), markVar+"="+p.mark)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if cg != nil {
		fd, err := cg.open()
		if err != nil {
			return err
		}
		defer fd.Close()
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = int(fd.Fd())
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	p.cmd = cmd
	return nil
}

// limited wraps a stream of the program so that printing past the output
// limit kills it.
func (p *Process) limited(r *os.File, s Stream) interface{ Read([]byte) (int, error) } {
	if p.limits.Output <= 0 {
		return r
	}
	return &limitReader{r: r, max: p.limits.Output, hit: func() {
		p.mu.Lock()
		if p.hit.Kind == "" {
			p.hit = LimitHit{Kind: LimitOutput, Value: p.limits.Output, Stream: s}
		}
		if p.stopping == "" {
			p.stopping = "SIGKILL"
			p.stopAt = time.Now()
		}
		p.mu.Unlock()
		p.out.addMark(s, fmt.Sprintf("[netgrade: the program printed more than %s on %s, its output limit: netgrade kills it]", Bytes(p.limits.Output), s))
		go p.signalAll(syscall.SIGKILL, nil)
	}}
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
// bounded file size and address space, and the memory and process limits
// its cgroup does not enforce. Best effort: a failure only means the limit
// is not applied. The program's children inherit them.
func (p *Process) limit() {
	pid := p.pgid
	set := func(res int, v uint64) {
		_ = unix.Prlimit(pid, res, &unix.Rlimit{Cur: v, Max: v}, nil)
	}
	set(unix.RLIMIT_CORE, 0)
	set(unix.RLIMIT_FSIZE, 64<<20)
	set(unix.RLIMIT_AS, addressSpaceLimit)
	if p.contain.Memory.By == "rlimit" {
		set(unix.RLIMIT_DATA, uint64(p.contain.Memory.Value))
	}
	if p.contain.Processes.By == "rlimit" {
		set(unix.RLIMIT_NPROC, uint64(userTasks()+p.contain.Processes.Value))
	}
	// When memory runs out where netgrade and the program share it (a
	// container), the kernel must kill the program, not netgrade.
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/oom_score_adj", pid), []byte("1000"), 0)
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
	cgHit := p.limitHit()
	p.mu.Lock()
	st.StoppedBy = p.stopping
	st.Limit = p.hit
	if st.Limit.Kind == "" {
		st.Limit = cgHit
	}
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

// Containment returns how the program is contained and limited.
func (p *Process) Containment() Containment { return p.contain }

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
	p.explainMemoryError()
	return nil
}

// explainMemoryError records the memory limit as the reason a program
// ended when it is enforced per process (RLIMIT_DATA, which the kernel
// reports to the program as a failed allocation, not as a kill) and the
// program's runtime says, from its stderr, that it ran out of memory.
func (p *Process) explainMemoryError() {
	if p.contain.Memory.By != "rlimit" || p.rt == nil {
		return
	}
	p.mu.Lock()
	ex := p.exit
	p.mu.Unlock()
	if !ex.Exited || ex.Code == 0 || ex.Limit.Kind != "" {
		return
	}
	// A runtime writes its error to stderr; a line of stdout read in
	// between (the two streams are read apart) must not cut it.
	var stderr []Line
	for _, l := range p.out.Lines() {
		if l.Stream == Stderr {
			stderr = append(stderr, l)
		}
	}
	if !p.rt.OutOfMemory(stderr) {
		return
	}
	p.mu.Lock()
	if p.exit.Limit.Kind == "" {
		p.exit.Limit = LimitHit{Kind: LimitMemory, Value: p.contain.Memory.Value, PerProcess: true}
	}
	p.mu.Unlock()
}
