package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The secure bits of capabilities(7) that the pair runner sets (the
// x/sys/unix package does not name them).
const (
	// secbitNoRoot: a process of uid 0 that execs a program gets no
	// capabilities for being uid 0.
	secbitNoRoot = 1 << 0
	// secbitNoRootLocked: nothing may clear secbitNoRoot again.
	secbitNoRootLocked = 1 << 1
)

// endCellBound bounds the end of a cell in a runner that serves many: the
// kill of every process the cell left and the reaping of them all.
const endCellBound = 10 * time.Second

// ServePairs is the main of a pair runner that serves many pairs, one
// after another (the netns sandbox's pool, see runPair): PID 1 of its
// namespaces, set up once by Init. It first makes itself safe from the
// programs it will run (harden, ignoreSignals), says so on out (a serving
// line), then reads one pair a line from in until in ends, and for each
// runs the cell in namespaces and a scratch folder of the cell's own
// (freshCell), runs f on it as ServePair does, kills and reaps every
// process the cell left (endCell), and only then writes the cell's outcome
// stream to out, so that the parent hands the next pair to a runner that
// holds nothing of the last; when a program changed the runner from
// outside meanwhile (runnerState), that stream begins with a retire line
// and the runner ends after it. Where it cannot serve many pairs (not PID 1 of
// its namespace, os/exec without pidfds, a binary linked with cgo, which
// has no syscall.AllThreadsSyscall), it says why on out (a no_pool line)
// and returns nil: the parent then runs each pair in a runner of its own.
// An error of a cell ends the runner, after its error line: the parent
// never hands another pair to a runner that erred.
func ServePairs(ctx context.Context, in io.Reader, out io.Writer, f PairFunc) error {
	enc := json.NewEncoder(out)
	if why := poolRefused(); why != "" {
		return enc.Encode(pairLine{NoPool: why})
	}
	if err := harden(); err != nil {
		if errors.Is(err, syscall.ENOTSUP) {
			return enc.Encode(pairLine{NoPool: "this netgrade is linked with cgo, which has no syscall.AllThreadsSyscall (build it with CGO_ENABLED=0)"})
		}
		_ = enc.Encode(pairLine{Error: err.Error()})
		return err
	}
	// A signal a program sends PID 1 changes nothing (ignoreSignals): the
	// runner ends only when its input does or its parent kills it.
	ignoreSignals()
	ctx = context.WithoutCancel(ctx)
	base, err := readRunnerState()
	if err != nil {
		_ = enc.Encode(pairLine{Error: err.Error()})
		return err
	}
	if err := enc.Encode(pairLine{Serving: true}); err != nil {
		return err
	}
	rd := bufio.NewReader(in)
	for {
		data, rerr := rd.ReadBytes('\n')
		if len(bytes.TrimSpace(data)) > 0 {
			retired, err := servePooled(ctx, data, f, base, out)
			if err != nil || retired {
				return err
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading the next pair: %w", rerr)
		}
	}
}

// servePooled runs one pair of ServePairs: fresh namespaces and scratch
// folder, the cell, the end of every process it left, then its stream.
// When a program of the cell changed the runner (see runnerState), the
// stream begins with a retire line and the runner serves no more
// (retired).
func servePooled(ctx context.Context, data []byte, f PairFunc, base runnerState, out io.Writer) (retired bool, err error) {
	fail := func(err error) (bool, error) {
		_ = json.NewEncoder(out).Encode(pairLine{Error: err.Error()})
		return false, err
	}
	p, err := ParsePair(data)
	if err != nil {
		return fail(err)
	}
	if err := freshCell(); err != nil {
		return fail(fmt.Errorf("setting up the cell: %w", err))
	}
	var buf bytes.Buffer
	serr := ServePair(ctx, p, f, &buf)
	ectx, cancel := context.WithTimeout(ctx, endCellBound)
	err = endCell(ectx)
	cancel()
	if err != nil {
		return fail(fmt.Errorf("ending the cell: %w", err))
	}
	if why := base.changed(); why != "" {
		retired = true
		if err := json.NewEncoder(out).Encode(pairLine{Retire: why}); err != nil {
			return true, err
		}
	}
	if _, err := out.Write(buf.Bytes()); err != nil {
		return retired, err
	}
	return retired, serr
}

// runnerState is what a process of the runner's uid may change of the
// runner from outside with no capability at all, and what would then
// weigh on the cells after its own: the resource limits (prlimit may
// lower them, and the runner cannot raise a hard limit again) and its OOM
// score adjustment (/proc/1/oom_score_adj is the uid's to write). Its
// threads' nice values, scheduling policies and CPUs are read too, though
// the kernel refuses a program setpriority, sched_setscheduler and
// sched_setaffinity on them (commoncap's cap_safe_nice: the runner holds
// capabilities the program lacks), so that a kernel that lets them
// through does not keep a changed runner either. A runner whose state
// changed during a cell serves no more.
type runnerState struct {
	limits, oomScoreAdj string
	// threads holds each distinct "nice policy rt-priority CPUs" of the
	// runner's threads.
	threads map[string]bool
}

// readRunnerState reads the runner's state now.
func readRunnerState() (runnerState, error) {
	var st runnerState
	limits, err := os.ReadFile("/proc/self/limits")
	if err != nil {
		return st, fmt.Errorf("reading the runner's limits: %w", err)
	}
	adj, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return st, fmt.Errorf("reading the runner's OOM score adjustment: %w", err)
	}
	st.limits, st.oomScoreAdj = string(limits), strings.TrimSpace(string(adj))
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return st, fmt.Errorf("listing the runner's threads: %w", err)
	}
	st.threads = map[string]bool{}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/self/task/" + t.Name() + "/stat")
		if err != nil {
			continue // the thread ended meanwhile
		}
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		// Fields 19 (nice), 40 (rt_priority) and 41 (policy) of
		// proc_pid_stat(5); the first after the command is field 3.
		fs := strings.Fields(string(stat[i+1:]))
		if len(fs) < 39 {
			continue
		}
		var cpus unix.CPUSet
		if err := unix.SchedGetaffinity(tid, &cpus); err != nil {
			continue
		}
		st.threads[fmt.Sprintf("nice %s, policy %s/%s, CPUs %v", fs[16], fs[38], fs[37], cpus)] = true
	}
	return st, nil
}

// changed says how the runner's state now differs from base, or "".
func (base runnerState) changed() string {
	now, err := readRunnerState()
	if err != nil {
		return err.Error()
	}
	switch {
	case now.limits != base.limits:
		return "a program changed the runner's resource limits"
	case now.oomScoreAdj != base.oomScoreAdj:
		return "a program changed the runner's OOM score adjustment"
	}
	for t := range now.threads {
		if !base.threads[t] {
			return "a program changed the scheduling of a thread of the runner (" + t + ")"
		}
	}
	return ""
}

// poolRefused says why this process cannot serve many pairs, or "".
// endCell needs PID 1 (kill(-1) spares it, and every orphan comes to it),
// and PID 1 runs the pair itself only where os/exec uses pidfds (Init).
func poolRefused() string {
	if os.Getpid() != 1 {
		return "the pair runner is not PID 1 of a new PID namespace"
	}
	if !pidfdsUsed() {
		return "os/exec does not use pidfds here: PID 1 runs each pair in a child of its own"
	}
	return ""
}

// harden makes the runner safe from the programs it runs, which are uid 0
// of its user namespace and would otherwise have every capability there
// (and could ptrace PID 1, which serves the cells after theirs):
//
//   - the capability bounding set is emptied, and the secure bits
//     SECBIT_NOROOT and SECBIT_NOROOT_LOCKED set, so that a program it
//     execs gets no capability: not for being uid 0 (NOROOT, locked so
//     that it stays set), nor from a file's capabilities (the bounding
//     set). SECBIT_NO_SETUID_FIXUP is left unset: it would let a process
//     keep its capabilities when it leaves uid 0, the opposite of the aim;
//     with no capability a program cannot change uids anyway. Both are
//     per thread, so every thread of the runtime gets them
//     (syscall.AllThreadsSyscall: ENOTSUP with cgo); the runner keeps its
//     own capabilities, which it needs for the namespaces of each cell.
//   - PR_SET_DUMPABLE 0, so that a process of the same uid without
//     CAP_SYS_PTRACE cannot ptrace PID 1 or open its /proc/1/mem, fd or
//     environ.
func harden() error {
	last := capLast()
	for c := 0; c <= last; c++ {
		if _, _, errno := syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(c), 0); errno != 0 {
			if errno == syscall.EINVAL {
				continue // a capability this kernel does not know
			}
			return fmt.Errorf("emptying the capability bounding set: %w", errno)
		}
	}
	if _, _, errno := syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_SET_SECUREBITS, secbitNoRoot|secbitNoRootLocked, 0); errno != 0 {
		return fmt.Errorf("setting the secure bits: %w", errno)
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("making the runner not dumpable: %w", err)
	}
	return nil
}

// capLast returns the highest capability of the running kernel.
func capLast() int {
	data, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return unix.CAP_LAST_CAP
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return unix.CAP_LAST_CAP
	}
	return n
}

// ignoreSignals makes every signal that reaches the runner do nothing:
// only a program of the cell can send one (the parent kills with SIGKILL,
// a terminal's Ctrl-C reaches the parent's process group, not this one),
// and the Go runtime would otherwise end the runner on most of them. The
// signals are relayed to a channel that is drained, rather than ignored
// (signal.Ignore): an ignored signal stays ignored in the programs the
// runner execs, a relayed one is reset to its default there.
func ignoreSignals() {
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs)
	go func() {
		for range sigs {
		}
	}()
}

// freshCell gives the cell about to run network and IPC namespaces of its
// own, with its loopback up, and an empty scratch folder. A new network
// namespace is made on one thread (unshare), then every thread of the
// runner enters it (setns on all threads), so that the in-process
// reference's sockets and the observers' netlink sockets see the cell's
// loopback, and nothing a program of an earlier cell bound, left in
// TIME_WAIT or created in System V IPC is there.
func freshCell() error {
	errc := make(chan error, 1)
	go func() {
		// The thread is left locked, and so dies with the goroutine,
		// unless every thread ends in the same namespaces.
		runtime.LockOSThread()
		err := enterNewNamespaces()
		if err == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	if err := <-errc; err != nil {
		return err
	}
	if err := loopbackUp(); err != nil {
		return fmt.Errorf("bringing up the cell's loopback: %w", err)
	}
	return mountScratch(true)
}

// enterNewNamespaces unshares new network and IPC namespaces on the
// calling (locked) thread and moves every thread of the runner into them.
func enterNewNamespaces() error {
	if err := unix.Unshare(unix.CLONE_NEWNET | unix.CLONE_NEWIPC); err != nil {
		return fmt.Errorf("new network and IPC namespaces: %w", err)
	}
	for _, ns := range []struct {
		name string
		flag uintptr
	}{{"net", unix.CLONE_NEWNET}, {"ipc", unix.CLONE_NEWIPC}} {
		fd, err := unix.Open("/proc/thread-self/ns/"+ns.name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("opening the new %s namespace: %w", ns.name, err)
		}
		_, _, errno := syscall.AllThreadsSyscall(unix.SYS_SETNS, uintptr(fd), ns.flag, 0)
		unix.Close(fd)
		if errno != 0 {
			return fmt.Errorf("entering the new %s namespace on every thread: %w", ns.name, errno)
		}
	}
	return nil
}

// endCell kills every process of the namespace but PID 1 (kill(-1): the
// kernel spares the caller, and PID 1 is the caller), a setsid daemon and
// whatever a program forked included, and reaps them all, until none is
// left: nothing a cell started lives into the next.
func endCell(ctx context.Context) error {
	for {
		kerr := unix.Kill(-1, unix.SIGKILL)
		for {
			var ws unix.WaitStatus
			pid, err := unix.Wait4(-1, &ws, unix.WNOHANG|unix.WALL, nil)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if pid <= 0 {
				break
			}
		}
		if errors.Is(kerr, unix.ESRCH) {
			return nil // no process but this one is left
		}
		if kerr != nil {
			return fmt.Errorf("killing the cell's processes: %w", kerr)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("processes of the cell are still there: %w", ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
}
