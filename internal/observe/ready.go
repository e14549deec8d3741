package observe

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/netgrade/netgrade/internal/poll"
	"github.com/netgrade/netgrade/internal/proctree"
	"github.com/netgrade/netgrade/internal/sockdiag"
	"golang.org/x/sys/unix"
)

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
