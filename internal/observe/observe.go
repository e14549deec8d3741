// Package observe watches a running program from outside, without
// touching it: the processes of its tree, the sockets they hold, whether
// it is at work, and when it is ready, that is, when it holds the server
// socket a client on 127.0.0.1 reaches. It reads the kernel (netlink
// sock_diag through sockdiag, /proc through proctree) with the cheapest
// mechanism the machine offers and says which one it used. It starts and
// stops nothing: harness does, and asks this package which processes are
// left to stop.
package observe

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

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
