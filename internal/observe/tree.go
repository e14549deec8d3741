package observe

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/netgrade/netgrade/internal/proctree"
)

// ProcInfo is one process of a program's tree, as read from /proc:
// proctree's own type, named here for the callers of Tree.
type ProcInfo = proctree.Proc

// Busy reports whether the program rooted at pid is at work: in a few
// looks over about 100 ms, one of its processes is running or waiting for a
// CPU (state R) or for the disk (D), or its CPU time grows. It also returns
// the CPU time the tree has used. A program blocked on input, a sleep or a
// socket is not busy.
func Busy(pid int) (bool, time.Duration) {
	var first, cpu time.Duration
	for i := range 10 {
		tree, err := Tree(pid)
		if err != nil || len(tree) == 0 {
			return false, cpu
		}
		cpu = 0
		busy := false
		for _, p := range tree {
			cpu += p.CPU
			if p.State == "R" || p.State == "D" {
				busy = true
			}
		}
		if i == 0 {
			first = cpu
		}
		if busy || cpu > first {
			return true, cpu
		}
		time.Sleep(10 * time.Millisecond) // sampling a state, not waiting for one
	}
	return false, cpu
}

// BlockedReading reports whether the program's process pid, of one thread
// and no children, sleeps in a blocking read of one of its sockets, and
// which (see proctree.Reader.BlockedReading).
func BlockedReading(pid int) (proctree.Blocked, bool, error) {
	return proctree.New("").BlockedReading(pid)
}

// Tree returns the processes of the program rooted at pid: pid itself, its
// descendants, and any other member of its process group, sorted by PID.
// Processes that vanish while /proc is read are left out. pid's own entry
// is read first, before any process below it is looked for: a process of
// the tree that existed when pid's entry (its thread count) was read is
// listed, so a reading never pairs threads started for children with
// children not yet seen.
func Tree(pid int) ([]ProcInfo, error) {
	tree, _, err := TreeVia(pid)
	return tree, err
}

// TreeVia is Tree, and says how the tree was read: ViaChildren, from the
// children lists of the program's own processes (a few reads per process
// of the program), or ViaProcScan, from every process of the machine, on a
// kernel that lists no children.
//
// Members of pid's process group that are not its descendants are
// orphans: their parent ended and the kernel gave them to the nearest
// child subreaper. ViaChildren finds them among netgrade's own children
// when netgrade is that subreaper (PR_SET_CHILD_SUBREAPER, or PID 1 of a
// sandbox's PID namespace); elsewhere they belong to init and only
// ViaProcScan finds them (a signal to the process group still reaches
// them).
func TreeVia(pid int) ([]ProcInfo, string, error) {
	r := proctree.New("")
	procs, err := r.Walk(pid)
	switch {
	case errors.Is(err, proctree.ErrNoChildren):
		tree, err := scanTree(r, pid)
		return tree, ViaProcScan, err
	case errors.Is(err, fs.ErrNotExist):
		procs = nil // the leader is gone; its group may remain
	case err != nil:
		return nil, ViaChildren, fmt.Errorf("reading /proc/%d: %w", pid, err)
	}
	seen := make(map[int]bool, len(procs))
	for _, p := range procs {
		seen[p.PID] = true
	}
	if adopts() {
		kids, _ := r.Children(os.Getpid())
		for _, k := range kids {
			if seen[k] {
				continue
			}
			st, err := r.Stat(k)
			if err != nil || st.PGRP != pid {
				continue
			}
			sub, err := r.Walk(k)
			if err != nil {
				continue
			}
			for _, p := range sub {
				if !seen[p.PID] {
					seen[p.PID] = true
					procs = append(procs, p)
				}
			}
		}
	}
	slices.SortFunc(procs, func(a, b ProcInfo) int { return a.PID - b.PID })
	return procs, ViaChildren, nil
}

// adopts reports whether orphaned processes become netgrade's children:
// it is PID 1 of its namespace or a child subreaper.
func adopts() bool {
	return os.Getpid() == 1 || childSubreaper()
}

// scanTree is Tree from a scan of every process. pid's entry is read
// before the scan (see Tree).
func scanTree(r *proctree.Reader, pid int) ([]ProcInfo, error) {
	root, rootErr := r.Stat(pid)
	all, err := r.Scan()
	if err != nil {
		return nil, fmt.Errorf("reading /proc: %w", err)
	}
	infos := make(map[int]proctree.Proc, len(all))
	children := map[int][]int{}
	for _, p := range all {
		if p.PID == pid && rootErr == nil {
			p = root
		}
		infos[p.PID] = p
		children[p.PPID] = append(children[p.PPID], p.PID)
	}
	seen := map[int]bool{}
	var walk func(int)
	walk = func(p int) {
		if seen[p] {
			return
		}
		if _, ok := infos[p]; !ok {
			return
		}
		seen[p] = true
		for _, c := range children[p] {
			walk(c)
		}
	}
	walk(pid)
	for p, in := range infos {
		if in.PGRP == pid {
			walk(p)
		}
	}
	out := make([]ProcInfo, 0, len(seen))
	for p := range seen {
		out = append(out, infos[p])
	}
	slices.SortFunc(out, func(a, b ProcInfo) int { return a.PID - b.PID })
	return out, nil
}

// WaitGone waits until every process of procs has ended or ctx ends, and
// says how it waited: ViaPidfd (the kernel wakes netgrade when each one
// exits) or ViaPolling where pidfd_open is refused. An error from a
// context that ended names the processes still running.
func WaitGone(ctx context.Context, procs []ProcInfo) (string, error) {
	return proctree.New("").WaitGone(ctx, procs)
}
