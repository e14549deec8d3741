package harness

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"

	"github.com/netgrade/netgrade/internal/poll"
	"github.com/netgrade/netgrade/internal/proctree"
	"github.com/netgrade/netgrade/internal/sockdiag"
)

// How an observation of a program was made, for --verbose output. Each
// cheap mechanism has the one netgrade used before it as its fallback.
const (
	// ViaSockDiag: sockets listed by netlink sock_diag, filtered by the
	// kernel by port and state.
	ViaSockDiag = "netlink sock_diag"
	// ViaProcNet: sockets read from the text of /proc/PID/net/{tcp,udp}{,6},
	// where sock_diag is refused or the program has a network namespace of
	// its own.
	ViaProcNet = "/proc/PID/net"
	// ViaChildren: a process tree read from its processes'
	// /proc/PID/task/TID/children lists.
	ViaChildren = "/proc/PID/task/*/children"
	// ViaProcScan: a process tree read from the stat file of every process,
	// where the kernel lists no children.
	ViaProcScan = "/proc scan"
	// ViaPidfd and ViaPolling: how a wait for processes to end saw them end.
	ViaPidfd   = proctree.ByPidfd
	ViaPolling = proctree.ByPolling
)

// ProcInfo is one process of a program's tree, as read from /proc: the
// observation package's own type, named here for the harness's callers.
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

// WaitGone waits until every process of procs has ended or ctx ends, and
// says how it waited: ViaPidfd (the kernel wakes netgrade when each one
// exits) or ViaPolling where pidfd_open is refused. An error from a
// context that ended names the processes still running.
func WaitGone(ctx context.Context, procs []ProcInfo) (string, error) {
	return proctree.New("").WaitGone(ctx, procs)
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

// Listening reports whether s is a server socket: a TCP socket in LISTEN or
// an unconnected UDP socket.
func (s Socket) Listening() bool {
	return s.State == "LISTEN" || s.State == "BOUND"
}

var tcpStates = map[uint64]string{
	1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT",
	7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING",
}

// socketOf describes one socket of a table, in the words of Socket.
func socketOf(proto string, addr net.IP, port, remPort uint64, state uint64, inode uint64) Socket {
	s := Socket{Proto: proto, Addr: addr, Port: int(port), Inode: inode}
	switch {
	case proto == "tcp":
		s.State = tcpStates[state]
	case remPort != 0:
		s.State = "CONNECTED"
	default:
		s.State = "BOUND"
	}
	return s
}

// Sockets returns the sockets held by the processes of pid's tree, read
// without touching them (no probe packet, no connection).
func Sockets(pid int) ([]Socket, error) {
	socks, _, err := SocketsVia(pid)
	return socks, err
}

// SocketsVia is Sockets, and says how the sockets were listed: ViaSockDiag,
// or ViaProcNet where sock_diag is refused or the program lives in another
// network namespace than netgrade.
func SocketsVia(pid int) ([]Socket, string, error) {
	inodes, err := socketInodes(pid)
	if err != nil || len(inodes) == 0 {
		return nil, ViaSockDiag, err
	}
	if sameNetns(pid) {
		if c, err := sockdiag.Dial(); err == nil {
			defer c.Close()
			if socks, err := diagSockets(c, inodes, 0, false); err == nil {
				return socks, ViaSockDiag, nil
			}
		}
	}
	socks, err := procNetSockets(pid, inodes)
	return socks, ViaProcNet, err
}

// socketInodes returns the inodes of the sockets the processes of pid's
// tree hold.
func socketInodes(pid int) (map[uint64]bool, error) {
	tree, err := Tree(pid)
	if err != nil {
		return nil, err
	}
	r := proctree.New("")
	inodes := map[uint64]bool{}
	for _, p := range tree {
		_ = r.SocketInodes(p.PID, inodes) // a process may end meanwhile
	}
	return inodes, nil
}

// sameNetns reports whether the process pid shares netgrade's network
// namespace, which is the one a sock_diag socket of netgrade lists.
func sameNetns(pid int) bool {
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return false
	}
	other, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
	return err == nil && other == self
}

// diagFamilies are the address families a program's sockets may have.
var diagFamilies = [...]uint8{unix.AF_INET, unix.AF_INET6}

// serverStates selects the sockets a server is found by: every UDP socket,
// and TCP sockets in LISTEN. The kernel keeps listening TCP sockets in a
// table of their own, so that listing them is cheap; the other TCP states
// live in the table of connections, which a dump walks whole (milliseconds
// on a machine with a large table, whatever the filter).
var serverStates = map[sockdiag.Proto]uint32{
	sockdiag.UDP: sockdiag.AllStates,
	sockdiag.TCP: sockdiag.States(sockdiag.Listen),
}

// diagSockets lists, through sock_diag, the TCP and UDP sockets whose inode
// is in inodes (every one when inodes is nil) on port (any when 0), sorted.
// With serversOnly, it lists only server sockets (serverStates); without,
// it also walks the table of TCP connections, unless every inode of inodes
// was found among the server sockets. protos, when given, restricts the
// listing to those protocols.
func diagSockets(c *sockdiag.Conn, inodes map[uint64]bool, port int, serversOnly bool, protos ...sockdiag.Proto) ([]Socket, error) {
	if len(protos) == 0 {
		protos = []sockdiag.Proto{sockdiag.UDP, sockdiag.TCP}
	}
	var out []Socket
	found := 0
	list := func(proto sockdiag.Proto, states uint32) error {
		for _, fam := range diagFamilies {
			es, err := c.List(sockdiag.Query{Family: fam, Proto: proto, Port: uint16(port), States: states})
			if err != nil {
				return err
			}
			for _, e := range es {
				if inodes != nil && !inodes[e.Inode] {
					continue
				}
				found++
				out = append(out, socketOf(proto.String(), e.Src, uint64(e.SrcPort), uint64(e.DstPort), uint64(e.State), e.Inode))
			}
		}
		return nil
	}
	for _, proto := range protos {
		if err := list(proto, serverStates[proto]); err != nil {
			return nil, err
		}
	}
	if !serversOnly && slices.Contains(protos, sockdiag.TCP) && (inodes == nil || found < len(inodes)) {
		if err := list(sockdiag.TCP, sockdiag.AllStates&^sockdiag.States(sockdiag.Listen)); err != nil {
			return nil, err
		}
	}
	sortSockets(out)
	return out, nil
}

// sortSockets orders sockets by protocol, port, address and inode.
func sortSockets(s []Socket) {
	slices.SortStableFunc(s, func(a, b Socket) int {
		switch {
		case a.Proto != b.Proto:
			return strings.Compare(a.Proto, b.Proto)
		case a.Port != b.Port:
			return a.Port - b.Port
		case !a.Addr.Equal(b.Addr):
			return strings.Compare(a.Addr.String(), b.Addr.String())
		}
		return int(a.Inode) - int(b.Inode)
	})
}

// procNetSockets lists the sockets of inodes from the text tables of
// /proc/PID/net, the program's own network namespace.
func procNetSockets(pid int, inodes map[uint64]bool) ([]Socket, error) {
	nfs, err := procfs.NewFS(fmt.Sprintf("/proc/%d", pid))
	if err != nil {
		return nil, fmt.Errorf("reading /proc/%d/net: %w", pid, err)
	}
	var out []Socket
	add := func(proto string, lines procfs.NetUDP) {
		for _, l := range lines {
			if inodes[l.Inode] {
				out = append(out, socketOf(proto, l.LocalAddr, l.LocalPort, l.RemPort, l.St, l.Inode))
			}
		}
	}
	if u, err := nfs.NetUDP(); err == nil {
		add("udp", u)
	}
	if u, err := nfs.NetUDP6(); err == nil {
		add("udp", u)
	}
	if t, err := nfs.NetTCP(); err == nil {
		add("tcp", procfs.NetUDP(t))
	}
	if t, err := nfs.NetTCP6(); err == nil {
		add("tcp", procfs.NetUDP(t))
	}
	sortSockets(out)
	return out, nil
}

// Readiness is how a wait for a program's socket went: the socket found,
// or the sockets it held instead; how it was observed and how many looks
// it took, for --verbose output.
type Readiness struct {
	Socket Socket
	// Held are, when no socket was found, the sockets the program held at
	// the deadline (none when it exited: its sockets went with it).
	Held []Socket
	// Via is ViaSockDiag or ViaProcNet.
	Via    string
	Looks  int
	Waited time.Duration
}

// WaitBound waits until the program rooted at pid holds a listening socket
// of proto on port that a client on 127.0.0.1 can reach. On failure it
// returns the sockets the program did hold, so that a report can say
// "bound UDP 0.0.0.0:1234, but the grader asked for 40213"; on success,
// every socket it holds. AwaitBound does the same wait without listing
// the sockets on success.
func WaitBound(ctx context.Context, pid int, proto string, port int, exited <-chan struct{}) (Socket, []Socket, error) {
	r, err := AwaitBound(ctx, pid, proto, port, exited)
	if err == nil {
		r.Held, _ = Sockets(pid)
	}
	return r.Socket, r.Held, err
}

// AwaitBound is WaitBound, and says how the wait went. Each look asks
// sock_diag which socket a client on 127.0.0.1 would reach on port (one
// hash lookup in the kernel; the first look lists the port's sockets
// instead, which also proves the kernel answers for proto), and reads the
// program's processes only once such a socket exists, to check that the
// program holds it. The looks follow poll's backoff (1 ms doubling up to
// 16 ms); the program's exit ends the wait at once with ErrExited.
func AwaitBound(ctx context.Context, pid int, proto string, port int, exited <-chan struct{}) (Readiness, error) {
	res := Readiness{Via: ViaSockDiag}
	diagProto := sockdiag.UDP
	if proto == "tcp" {
		diagProto = sockdiag.TCP
	}
	var c *sockdiag.Conn
	if sameNetns(pid) {
		if conn, err := sockdiag.Dial(); err == nil {
			c = conn
		}
	}
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	if c == nil {
		res.Via = ViaProcNet
	}
	want := func(s Socket) bool {
		return s.Proto == proto && s.Port == port && s.Listening() && s.CoversLoopback()
	}
	// owned returns the first socket of cands that the program holds:
	// looked for in its main process's descriptors first, where a server
	// almost always holds it, and only then in its whole tree.
	owned := func(cands []Socket) (Socket, bool, error) {
		if !slices.ContainsFunc(cands, want) {
			return Socket{}, false, nil
		}
		main := map[uint64]bool{}
		if proctree.New("").SocketInodes(pid, main) == nil {
			for _, s := range cands {
				if want(s) && main[s.Inode] {
					return s, true, nil
				}
			}
		}
		inodes, err := socketInodes(pid)
		if err != nil {
			return Socket{}, false, err
		}
		for _, s := range cands {
			if want(s) && inodes[s.Inode] {
				return s, true, nil
			}
		}
		return Socket{}, false, nil
	}
	lo := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(port))
	listed := false
	look := func() (poll.Result, error) {
		var cands []Socket
		if !listed {
			var err error
			if cands, err = diagSockets(c, nil, port, true, diagProto); err != nil {
				return poll.Result{}, err
			}
			listed = true
		} else {
			e, found, err := c.Server(sockdiag.Query{Family: unix.AF_INET, Proto: diagProto}, lo)
			if err != nil {
				return poll.Result{}, err
			}
			if !found {
				return poll.Continue("no %s socket a client on 127.0.0.1 reaches on port %d", strings.ToUpper(proto), port), nil
			}
			cands = []Socket{socketOf(proto, e.Src, uint64(e.SrcPort), uint64(e.DstPort), uint64(e.State), e.Inode)}
		}
		s, ok, err := owned(cands)
		switch {
		case err != nil:
			return poll.Continue("reading the program's sockets: %v", err), nil
		case ok:
			res.Socket = s
			return poll.Done(), nil
		case len(cands) > 0 && slices.ContainsFunc(cands, want):
			// Another process's socket answers on the port: list the
			// port's sockets next time, in case the program's is there too.
			listed = false
			return poll.Continue("%s port %d is held, but not by the program", strings.ToUpper(proto), port), nil
		}
		return poll.Continue("no %s socket a client on 127.0.0.1 reaches on port %d", strings.ToUpper(proto), port), nil
	}
	st, err := poll.Wait(ctx, func(context.Context) poll.Result {
		if c != nil {
			r, err := look()
			if err == nil {
				return r
			}
			// sock_diag refused: /proc/PID/net from now on.
			c.Close()
			c, res.Via = nil, ViaProcNet
		}
		socks, err := Sockets(pid)
		if err != nil {
			return poll.Continue("reading the program's sockets: %v", err)
		}
		for _, s := range socks {
			if want(s) {
				res.Socket = s
				return poll.Done()
			}
		}
		return poll.Continue("the program holds %d sockets, none a %s server on port %d", len(socks), strings.ToUpper(proto), port)
	}, poll.StopOn(exited, ErrExited))
	res.Looks, res.Waited = st.Looks, st.Elapsed
	if err == nil {
		return res, nil
	}
	if !errors.Is(err, ErrExited) {
		res.Held, _ = Sockets(pid)
	}
	var te *poll.TimeoutError
	if errors.As(err, &te) {
		return res, te.Err // the context's own error, as callers compare it
	}
	return res, err
}

// ErrExited is returned by waits that ended because the program exited.
var ErrExited = fmt.Errorf("the program exited")

// ListenQueue returns how many connections wait in the accept queue of the
// TCP socket listening on port in pid's network namespace: connections the
// kernel has completed but the program has not accept()ed yet (a LISTEN
// socket's receive queue). found is false when no socket listens on port.
// A client that connects while the queue is full has its SYN dropped and
// retried by the kernel about a second later, so load generators read this
// to pace their connections.
func ListenQueue(pid, port int) (queued int, found bool, err error) {
	if sameNetns(pid) {
		if c, err := sockdiag.Dial(); err == nil {
			defer c.Close()
			if q, f, err := diagListenQueue(c, port); err == nil {
				return q, f, nil
			}
		}
	}
	return procNetListenQueue(pid, port)
}

// diagListenQueue is ListenQueue through sock_diag: one lookup of the
// listener a client on 127.0.0.1 reaches on port; when there is none, a
// listing of the port's listeners, which also proves the kernel answers.
func diagListenQueue(c *sockdiag.Conn, port int) (queued int, found bool, err error) {
	lo := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(port))
	e, found, err := c.Server(sockdiag.Query{Family: unix.AF_INET, Proto: sockdiag.TCP}, lo)
	if err != nil {
		return 0, false, err
	}
	if found && e.State == sockdiag.Listen {
		return int(e.RQueue), true, nil
	}
	for _, fam := range diagFamilies {
		es, err := c.List(sockdiag.Query{Family: fam, Proto: sockdiag.TCP, Port: uint16(port), States: sockdiag.States(sockdiag.Listen)})
		if err != nil {
			return 0, false, err
		}
		for _, e := range es {
			queued += int(e.RQueue)
			found = true
		}
	}
	return queued, found, nil
}

// procNetListenQueue is ListenQueue from /proc/PID/net/tcp{,6}.
func procNetListenQueue(pid, port int) (queued int, found bool, err error) {
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

// Mechanisms says how netgrade observes programs on this machine: the
// cheap mechanism of each kind where the kernel offers it, else the
// fallback, for --verbose output.
type Mechanisms struct {
	Sockets string // ViaSockDiag or ViaProcNet
	Trees   string // ViaChildren or ViaProcScan
	Exits   string // ViaPidfd or ViaPolling
}

// String shows the mechanisms in one line.
func (m Mechanisms) String() string {
	return fmt.Sprintf("sockets through %s, process trees through %s, exits through %s", m.Sockets, m.Trees, m.Exits)
}

// ProbeMechanisms finds out which mechanisms work here, by trying each on
// netgrade's own process and network namespace.
func ProbeMechanisms() Mechanisms {
	m := Mechanisms{Sockets: ViaProcNet, Trees: ViaProcScan, Exits: ViaPolling}
	if c, err := sockdiag.Dial(); err == nil {
		_, uerr := c.List(sockdiag.Query{Family: unix.AF_INET, Proto: sockdiag.UDP, Port: 1})
		_, terr := c.List(sockdiag.Query{Family: unix.AF_INET, Proto: sockdiag.TCP, Port: 1, States: sockdiag.States(sockdiag.Listen)})
		if uerr == nil && terr == nil {
			m.Sockets = ViaSockDiag
		}
		c.Close()
	}
	if _, err := proctree.New("").Children(os.Getpid()); err == nil {
		m.Trees = ViaChildren
	}
	if fd, err := unix.PidfdOpen(os.Getpid(), 0); err == nil {
		unix.Close(fd)
		m.Exits = ViaPidfd
	}
	return m
}
