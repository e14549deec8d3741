package harness

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netgrade/netgrade/internal/observe"
	"github.com/netgrade/netgrade/internal/poll"
	"github.com/netgrade/netgrade/internal/proctree"
)

// Stop ends the program and every process it started: SIGINT (Python
// flushes its buffers on KeyboardInterrupt), then SIGTERM, then SIGKILL,
// each after its grace period, to the whole program: its cgroup, or its
// process group, its descendants found through /proc and the orphans it
// left to netgrade. A program running more than crowd processes gets
// SIGKILL at once. Stop then reaps those orphans and removes the cgroup.
// It returns how the program ended. Stop is safe to call more than once.
func (p *Process) Stop() ExitStatus {
	p.stopOnce.Do(p.stop)
	return p.Exit()
}

func (p *Process) stop() {
	steps := []struct {
		sig   syscall.Signal
		grace time.Duration
	}{{syscall.SIGINT, InterruptGrace}, {syscall.SIGTERM, TerminateGrace}, {syscall.SIGKILL, killGrace}}
	// Every process of the program seen since stopping began stays a
	// target: a child that left the process group (setsid) and ignores a
	// signal is no longer anyone's descendant once its parent has died.
	seen := map[int]observe.ProcInfo{}
	p.scan(seen)
	if p.count(seen) > crowd {
		steps = steps[2:]
	}
	for i, s := range steps {
		if i > 0 {
			p.scan(seen)
		}
		if !p.Running() && !p.anyLeft(seen) {
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
		p.signalAll(s.sig, seen)
		if p.waitGone(s.grace, seen, s.sig == syscall.SIGKILL) {
			break
		}
	}
	<-p.done
	p.sweep(seen)
	p.cleanUp(seen)
	ctx, cancel := context.WithTimeout(context.Background(), outputDrain)
	defer cancel()
	if p.out.WaitClosed(ctx) != nil {
		for _, f := range p.closers {
			f.Close()
		}
	}
	p.explainMemoryError()
}

// sweep kills what is left of a program without a cgroup once its main
// process is gone: a process that left the group after the last look (a
// child that called setsid() and forked while the program was being
// stopped) carries the program's mark, and nothing of the program can
// start another once everything marked is dead. It looks until two looks
// in a row find nothing alive, for at most killGrace.
func (p *Process) sweep(seen map[int]observe.ProcInfo) {
	if p.cg != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), killGrace)
	defer cancel()
	quiet := 0
	_, _ = poll.Wait(ctx, func(context.Context) poll.Result {
		p.scan(seen)
		left := aliveOf(seen)
		if len(left) == 0 && !(p.groupOurs() && groupAlive(p.pgid)) {
			quiet++
		} else {
			quiet = 0
			p.signalAll(syscall.SIGKILL, seen)
		}
		p.reapOrphans(seen)
		if quiet == 2 {
			return poll.Done()
		}
		return poll.Continue("%d processes of the program were alive at the last look", len(left))
	}, poll.Backoff(sweepEvery, sweepEvery))
}

// sweepEvery is how often sweep looks at /proc.
const sweepEvery = 10 * time.Millisecond

// scan adds to seen the processes of the program found in /proc: its
// process group and descendants, and the orphans that carry its mark
// (with theirs). A cgroup needs no scan: it holds them all.
func (p *Process) scan(seen map[int]observe.ProcInfo) {
	if p.cg != nil {
		return
	}
	add := func(ps []observe.ProcInfo) {
		for _, d := range ps {
			if _, ok := seen[d.PID]; !ok && d.PID != p.pgid {
				seen[d.PID] = d
			}
		}
	}
	if p.groupOurs() {
		add(descendants(p.pgid))
	}
	for _, o := range p.sup.marked(p.mark, p.pgid) {
		add([]observe.ProcInfo{o})
		add(descendants(o.PID))
	}
}

// groupOurs reports whether the program's process group ID still names
// its group: while the program runs, or once no other process has taken
// its PID (a PID that still names a process group is never reused).
func (p *Process) groupOurs() bool {
	if p.Running() {
		return true
	}
	_, err := os.Stat(fmt.Sprintf("/proc/%d", p.pgid))
	return errors.Is(err, os.ErrNotExist)
}

// count returns how many processes the program runs, about.
func (p *Process) count(seen map[int]observe.ProcInfo) int {
	if p.cg != nil {
		return len(p.cg.procs())
	}
	return len(seen) + 1
}

// anyLeft reports whether a process of the program other than its main
// one is left. It forgets the processes of live that it finds dead, so
// that waiting for hundreds costs a look at each once.
func (p *Process) anyLeft(live map[int]observe.ProcInfo) bool {
	if p.cg != nil {
		return p.cg.populated()
	}
	for pid, info := range live {
		if info.Alive() {
			return true
		}
		delete(live, pid)
	}
	return p.groupOurs() && groupAlive(p.pgid)
}

// signalAll sends sig to every process of the program that netgrade
// knows of: its cgroup (SIGKILL kills it whole), or its process group and
// the processes of seen.
//
// A process gets a signal once: a second SIGINT arriving while Python
// handles the first can cut the flush of its output, so the members of
// the process group, signalled as a group, are not signalled again.
func (p *Process) signalAll(sig syscall.Signal, seen map[int]observe.ProcInfo) {
	group := p.groupOurs()
	if group {
		_ = syscall.Kill(-p.pgid, sig)
	}
	others := func(pids []int) {
		for _, pid := range pids {
			if pg, err := unix.Getpgid(pid); group && err == nil && pg == p.pgid {
				continue
			}
			_ = syscall.Kill(pid, sig)
		}
	}
	if p.cg != nil {
		if sig == syscall.SIGKILL {
			p.cg.signal(sig)
			return
		}
		others(p.cg.procs())
		return
	}
	if seen == nil {
		seen = map[int]observe.ProcInfo{}
		p.scan(seen)
	}
	others(aliveOf(seen))
}

// aliveOf returns the PIDs of the processes of seen that still run.
func aliveOf(seen map[int]observe.ProcInfo) []int {
	var out []int
	for pid, info := range seen {
		if info.Alive() {
			out = append(out, pid)
		}
	}
	return out
}

// waitGone waits until the program and every other process of it are
// gone, or for grace; it reports whether they are gone. After SIGKILL
// (kill), it keeps killing what it finds, processes forked while the
// others died included.
func (p *Process) waitGone(grace time.Duration, seen map[int]observe.ProcInfo, kill bool) bool {
	deadline := time.Now().Add(grace)
	timeout := time.NewTimer(grace)
	defer timeout.Stop()
	select {
	case <-p.done:
	case <-timeout.C:
		return false
	}
	// The main process is gone; the rest of the program may remain.
	// netgrade looks at what is left with poll's backoff, from lookFirst
	// up to lookCap, and sleeps in between on the processes it knows of
	// (with pidfds, the kernel wakes it when they have all exited). After
	// each look it reaps the orphans it inherited that died (a zombie
	// still counts as a member of the process group) and, after SIGKILL,
	// kills what was forked meanwhile.
	live := maps.Clone(seen)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	wake := make(chan struct{}, 1)
	stopWatch := func() {}
	defer func() { stopWatch() }()
	first := true
	_, err := poll.Wait(ctx, func(context.Context) poll.Result {
		stopWatch()
		if !first {
			if kill {
				before := len(seen)
				p.scan(seen)
				if len(seen) > before {
					live = maps.Clone(seen)
				}
				p.signalAll(syscall.SIGKILL, live)
			}
			p.reapOrphans(seen)
		}
		first = false
		if !p.anyLeft(live) {
			return poll.Done()
		}
		procs := p.members(live)
		if len(procs) > 0 {
			wctx, wcancel := context.WithCancel(ctx)
			stopWatch = wcancel
			go func() {
				if _, err := observe.WaitGone(wctx, procs); err == nil {
					select {
					case wake <- struct{}{}:
					default:
					}
				}
			}()
		}
		return poll.Continue("%d processes of the program are left", len(procs))
	}, poll.Backoff(lookFirst, lookCap), poll.WakeOn(wake))
	return err == nil
}

// How often waitGone looks at what is left of a program whose main
// process has ended: first after lookFirst, then twice as late each time,
// up to lookCap (poll's backoff). Between looks it sleeps on the
// processes' pidfds, and looks at once when they have all exited.
const (
	lookFirst = 5 * time.Millisecond
	lookCap   = 100 * time.Millisecond
)

// members returns the processes of the program other than its main one
// that netgrade knows of and that still run: its cgroup's, or those of
// live.
func (p *Process) members(live map[int]observe.ProcInfo) []observe.ProcInfo {
	if p.cg != nil {
		r := proctree.New("")
		var out []observe.ProcInfo
		for _, pid := range p.cg.procs() {
			if pr, err := r.Stat(pid); err == nil && !pr.Gone() {
				out = append(out, pr)
			}
		}
		return out
	}
	out := make([]observe.ProcInfo, 0, len(live))
	for _, info := range live {
		out = append(out, info)
	}
	return out
}

// cleanUp runs once the program's processes are gone: it reaps the
// orphans netgrade inherited from the program (and only those), reads
// the limits the cgroup saw hit, and removes the cgroup.
func (p *Process) cleanUp(seen map[int]observe.ProcInfo) {
	p.reapOrphans(seen)
	hit := p.limitHit()
	p.mu.Lock()
	if p.exit.Limit.Kind == "" {
		p.exit.Limit = hit
	}
	p.mu.Unlock()
	if p.cg == nil {
		return
	}
	_ = p.cg.remove()
}

// limitHit returns the limit the program's cgroup, or the cgroup netgrade
// shares with it, saw hit since the program started.
func (p *Process) limitHit() LimitHit {
	if p.cg != nil {
		if h := p.cg.hit(p.limits); h.Kind != "" {
			return h
		}
	}
	return p.sup.shared.hit(p.shared)
}

// reapOrphans reaps the processes of the program that netgrade inherited
// and that have died: those of its cgroup, or of its process group, or
// seen as its own. No other child of netgrade is touched: os/exec waits
// for those.
func (p *Process) reapOrphans(seen map[int]observe.ProcInfo) {
	if !zombieChild() {
		return // nothing has died that is not reaped yet
	}
	for _, c := range p.sup.children() {
		if c.PID == p.pgid || c.State != "Z" {
			continue
		}
		switch {
		case p.cg != nil && p.cg.holds(c.PID, p.sup.mount):
		case p.cg == nil && c.PGRP == p.pgid && p.groupOurs():
		case p.cg == nil && seen[c.PID].Started == c.Started && seen[c.PID].PID == c.PID:
		default:
			continue
		}
		reap(c.PID)
	}
}

// zombieChild reports whether netgrade has a child that has ended and is
// not reaped yet, without reaping it: one waitid call, where reading the
// children lists of all of netgrade's threads would take dozens of reads at
// every Stop. When it says no, there is no orphan to reap.
func zombieChild() bool {
	var info unix.Siginfo
	err := unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
	if err != nil {
		return !errors.Is(err, unix.ECHILD) // in doubt, look
	}
	// Linux fills the siginfo of a child found (si_signo SIGCHLD) and
	// leaves it zeroed when there is none.
	return info.Signo != 0
}

// groupAlive reports whether any process is left in process group pgid.
func groupAlive(pgid int) bool {
	err := syscall.Kill(-pgid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// descendants returns the live processes of pid's tree but pid.
func descendants(pid int) []observe.ProcInfo {
	tree, err := observe.Tree(pid)
	if err != nil {
		return nil
	}
	var out []observe.ProcInfo
	for _, p := range tree {
		if p.PID != pid && p.State != "Z" {
			out = append(out, p)
		}
	}
	return out
}
