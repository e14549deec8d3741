package harness

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/procfs"
)

// ProcInfo is one process of a program's tree, as read from /proc.
type ProcInfo struct {
	PID     int
	PPID    int
	PGRP    int
	Threads int
	Comm    string
	State   string
	// Started is the process's start time in clock ticks since boot: with
	// the PID, it names the process even after the PID is reused.
	Started uint64
}

// Tree returns the processes of the program rooted at pid: pid itself, its
// descendants, and any other member of its process group, sorted by PID.
// Processes that vanish while /proc is read are left out.
func Tree(pid int) ([]ProcInfo, error) {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return nil, fmt.Errorf("reading /proc: %w", err)
	}
	all, err := fs.AllProcs()
	if err != nil {
		return nil, fmt.Errorf("reading /proc: %w", err)
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

// descendants returns the live processes of pid's tree but pid.
func descendants(pid int) []ProcInfo {
	tree, err := Tree(pid)
	if err != nil {
		return nil
	}
	var out []ProcInfo
	for _, p := range tree {
		if p.PID != pid && p.State != "Z" {
			out = append(out, p)
		}
	}
	return out
}

// Alive reports whether the process p names is still running: same PID,
// same start time, not a zombie.
func (p ProcInfo) Alive() bool {
	pr, err := procfs.NewProc(p.PID)
	if err != nil {
		return false
	}
	st, err := pr.Stat()
	if err != nil {
		return false
	}
	return st.Starttime == p.Started && st.State != "Z" && st.State != "X"
}

// Socket is a socket held by a program, as listed in /proc/net.
type Socket struct {
	Proto string // "udp" or "tcp"
	Addr  net.IP
	Port  int
	// State is "LISTEN" for a listening TCP socket, "ESTABLISHED" and so on;
	// for UDP, "BOUND" (unconnected) or "CONNECTED".
	State string
	Inode uint64
}

// String shows the socket as "UDP 0.0.0.0:1234".
func (s Socket) String() string {
	a := "*"
	if s.Addr != nil {
		a = s.Addr.String()
	}
	if s.Addr.To4() == nil && s.Addr != nil {
		a = "[" + a + "]"
	}
	return fmt.Sprintf("%s %s:%d", strings.ToUpper(s.Proto), a, s.Port)
}

// CoversLoopback reports whether a client connecting to 127.0.0.1 reaches
// this socket: bound to 127.0.0.1, 0.0.0.0, or :: (dual stack).
func (s Socket) CoversLoopback() bool {
	if s.Addr == nil {
		return true
	}
	return s.Addr.IsUnspecified() || s.Addr.Equal(net.IPv4(127, 0, 0, 1))
}

var tcpStates = map[uint64]string{
	1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT",
	7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING",
}

// Sockets returns the sockets held by the processes of pid's tree, read from
// /proc without touching them (no probe packet, no connection).
func Sockets(pid int) ([]Socket, error) {
	tree, err := Tree(pid)
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
	// /proc/PID/net shows the network namespace of the program itself.
	nfs, err := procfs.NewFS(fmt.Sprintf("/proc/%d", pid))
	if err != nil {
		return nil, fmt.Errorf("reading /proc/%d/net: %w", pid, err)
	}
	var out []Socket
	add := func(proto string, lines []*procfsLine) {
		for _, l := range lines {
			if !inodes[l.Inode] {
				continue
			}
			s := Socket{Proto: proto, Addr: l.LocalAddr, Port: int(l.LocalPort), Inode: l.Inode}
			if proto == "tcp" {
				s.State = tcpStates[l.St]
			} else if l.RemPort != 0 {
				s.State = "CONNECTED"
			} else {
				s.State = "BOUND"
			}
			out = append(out, s)
		}
	}
	if u, err := nfs.NetUDP(); err == nil {
		add("udp", toLines(u))
	}
	if u, err := nfs.NetUDP6(); err == nil {
		add("udp", toLines(u))
	}
	if t, err := nfs.NetTCP(); err == nil {
		add("tcp", toLines(procfs.NetUDP(t)))
	}
	if t, err := nfs.NetTCP6(); err == nil {
		add("tcp", toLines(procfs.NetUDP(t)))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Proto != out[j].Proto {
			return out[i].Proto < out[j].Proto
		}
		return out[i].Port < out[j].Port
	})
	return out, nil
}

// procfsLine is the part of a /proc/net line that Sockets uses.
type procfsLine struct {
	LocalAddr net.IP
	LocalPort uint64
	RemPort   uint64
	St        uint64
	Inode     uint64
}

// toLines copies the fields Sockets uses out of a procfs table.
func toLines(in procfs.NetUDP) []*procfsLine {
	out := make([]*procfsLine, 0, len(in))
	for _, l := range in {
		out = append(out, &procfsLine{LocalAddr: l.LocalAddr, LocalPort: l.LocalPort, RemPort: l.RemPort, St: l.St, Inode: l.Inode})
	}
	return out
}

// Listening reports whether s is a server socket: a TCP socket in LISTEN or
// an unconnected UDP socket.
func (s Socket) Listening() bool {
	return s.State == "LISTEN" || s.State == "BOUND"
}

// WaitBound waits until the program rooted at pid holds a listening socket
// of proto on port that a client on 127.0.0.1 can reach. It polls /proc
// every few milliseconds until ctx ends. On failure it returns the sockets
// the program did hold, so that a report can say "bound UDP 0.0.0.0:1234,
// but the grader asked for 40213".
func WaitBound(ctx context.Context, pid int, proto string, port int, exited <-chan struct{}) (Socket, []Socket, error) {
	delay := time.Millisecond
	var last []Socket
	for {
		socks, err := Sockets(pid)
		if err == nil {
			last = socks
			for _, s := range socks {
				if s.Proto == proto && s.Port == port && s.Listening() && s.CoversLoopback() {
					return s, socks, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return Socket{}, last, ctx.Err()
		case <-exited:
			return Socket{}, last, ErrExited
		case <-time.After(delay):
		}
		if delay < 10*time.Millisecond {
			delay *= 2
		}
	}
}

// ErrExited is returned by waits that ended because the program exited.
var ErrExited = fmt.Errorf("the program exited")

// ListenQueue returns how many connections wait in the accept queue of the
// TCP socket listening on port in pid's network namespace: connections the
// kernel has completed but the program has not accept()ed yet (the rx_queue
// column of /proc/net/tcp for a LISTEN socket). found is false when no
// socket listens on port. A client that connects while the queue is full
// has its SYN dropped and retried by the kernel about a second later, so
// load generators read this to pace their connections.
func ListenQueue(pid, port int) (queued int, found bool, err error) {
	nfs, err := procfs.NewFS(fmt.Sprintf("/proc/%d", pid))
	if err != nil {
		return 0, false, fmt.Errorf("reading /proc/%d/net: %w", pid, err)
	}
	for _, read := range []func() (procfs.NetTCP, error){nfs.NetTCP, nfs.NetTCP6} {
		lines, err := read()
		if err != nil {
			continue // no IPv6, or the process is gone
		}
		for _, l := range lines {
			if int(l.LocalPort) == port && tcpStates[l.St] == "LISTEN" {
				queued += int(l.RxQueue)
				found = true
			}
		}
	}
	return queued, found, nil
}
