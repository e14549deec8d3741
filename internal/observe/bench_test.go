package observe

import (
	"net/netip"

	"fmt"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/prometheus/procfs"

	"github.com/netgrade/netgrade/internal/proctree"
	"github.com/netgrade/netgrade/internal/sockdiag"
)

// The benchmarks compare, per query, the readings netgrade did before
// (oldTree, oldSockets, oldListenQueue: the former code, kept here) with
// the targeted ones, on a Python program holding five sockets in two
// processes. Each reports cpu-ns/op: the CPU (user and kernel) the test
// process spent per query, which is what a poll loop costs the machine.

// cpuNow returns the CPU time this process has used so far.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs f b.N times and reports its CPU per call.
func measure(b *testing.B, f func() error) {
	b.Helper()
	begin := cpuNow()
	for b.Loop() {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuNow()-begin)/float64(b.N), "cpu-ns/op")
}

func BenchmarkTree(b *testing.B) {
	p, _, _ := startSockets(b)
	pid := p.Pid()
	r := proctree.New("")
	b.Run("old=procfs-all", func(b *testing.B) { measure(b, func() error { _, err := oldTree(pid); return err }) })
	b.Run("fallback=scan", func(b *testing.B) { measure(b, func() error { _, err := scanTree(r, pid); return err }) })
	b.Run("new=children", func(b *testing.B) { measure(b, func() error { _, _, err := TreeVia(pid); return err }) })
}

func BenchmarkSockets(b *testing.B) {
	p, _, _ := startSockets(b)
	pid := p.Pid()
	b.Run("old=procfs", func(b *testing.B) { measure(b, func() error { _, err := oldSockets(pid); return err }) })
	b.Run("fallback=procnet", func(b *testing.B) {
		measure(b, func() error {
			inodes, err := socketInodes(pid)
			if err != nil {
				return err
			}
			_, err = procNetSockets(pid, inodes)
			return err
		})
	})
	b.Run("new=sockdiag", func(b *testing.B) { measure(b, func() error { _, _, err := SocketsVia(pid); return err }) })
}

// BenchmarkReadinessLook is one look of WaitBound while the program has
// not bound its port yet (the usual case: a look that finds nothing): the
// former full reading, the lookup every look but the first makes, and the
// listing of the port the first look makes.
func BenchmarkReadinessLook(b *testing.B) {
	p, _, udp := startSockets(b)
	pid := p.Pid()
	b.Run("old=procfs", func(b *testing.B) {
		measure(b, func() error {
			socks, err := oldSockets(pid)
			for _, s := range socks {
				if s.Proto == "tcp" && s.Port == udp && s.Listening() {
					return fmt.Errorf("unexpected %v", s)
				}
			}
			return err
		})
	})
	c, err := sockdiag.Dial()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	lo := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(udp))
	b.Run("new=sockdiag-lookup", func(b *testing.B) {
		measure(b, func() error {
			if _, found, err := c.Server(sockdiag.Query{Family: unix.AF_INET, Proto: sockdiag.TCP}, lo); err != nil || found {
				return fmt.Errorf("found %v: %w", found, err)
			}
			return nil
		})
	})
	b.Run("first=sockdiag-port-list", func(b *testing.B) {
		measure(b, func() error {
			socks, err := diagSockets(c, nil, udp, true, sockdiag.TCP)
			for _, s := range socks {
				if s.Proto == "tcp" && s.Listening() {
					return fmt.Errorf("unexpected %v", s)
				}
			}
			return err
		})
	})
}

func BenchmarkListenQueue(b *testing.B) {
	p, tcp, _ := startSockets(b)
	pid := p.Pid()
	b.Run("old=procfs", func(b *testing.B) { measure(b, func() error { _, _, err := oldListenQueue(pid, tcp); return err }) })
	b.Run("new=sockdiag", func(b *testing.B) { measure(b, func() error { _, _, err := ListenQueue(pid, tcp); return err }) })
}

// oldTree is Tree as netgrade read it before: every process's stat file
// through procfs.
func oldTree(pid int) ([]ProcInfo, error) {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return nil, err
	}
	all, err := fs.AllProcs()
	if err != nil {
		return nil, err
	}
	infos := make(map[int]ProcInfo, len(all))
	children := map[int][]int{}
	for _, pr := range all {
		st, err := pr.Stat()
		if err != nil {
			continue
		}
		infos[pr.PID] = ProcInfo{PID: pr.PID, PPID: st.PPID, PGRP: st.PGRP, Threads: st.NumThreads, Comm: st.Comm, State: st.State, Started: st.Starttime}
		children[st.PPID] = append(children[st.PPID], pr.PID)
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
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, nil
}

// oldSockets is Sockets as netgrade read it before: oldTree, the fd links
// through procfs, and the four /proc/PID/net tables parsed whole.
func oldSockets(pid int) ([]Socket, error) {
	tree, err := oldTree(pid)
	if err != nil {
		return nil, err
	}
	inodes := map[uint64]bool{}
	for _, p := range tree {
		pr, err := procfs.NewProc(p.PID)
		if err != nil {
			continue
		}
		targets, err := pr.FileDescriptorTargets()
		if err != nil {
			continue
		}
		for _, t := range targets {
			if strings.HasPrefix(t, "socket:[") {
				if n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(t, "socket:["), "]"), 10, 64); err == nil {
					inodes[n] = true
				}
			}
		}
	}
	if len(inodes) == 0 {
		return nil, nil
	}
	return procNetSockets(pid, inodes)
}

// oldListenQueue is ListenQueue as netgrade read it before.
func oldListenQueue(pid, port int) (int, bool, error) { return procNetListenQueue(pid, port) }
