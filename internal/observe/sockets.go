package observe

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/netgrade/netgrade/internal/proctree"
	"github.com/netgrade/netgrade/internal/sockdiag"
	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"
)

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
