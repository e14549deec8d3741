package harness

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Ports hands out free loopback ports for programs under test. It picks
// them at random in a range below Linux's ephemeral ports and away from
// the ports students hard-code (1234, 5000, 8000, 8080, 8888, 9996, 12345...),
// so that a program that ignores its argument is caught, and it never hands
// out a port again until half the range has been handed out since.
type Ports struct {
	mu   sync.Mutex
	rng  *rand.Rand
	used map[int]bool
	// order is the ports in used, oldest first: once half the range's
	// ports have been handed out, the oldest is handed out again, so that
	// a long run (a flake guard's hundreds of gradings) never runs out.
	order []int
	lo    int
	hi    int
	// fixed arbitrates the ports programs choose themselves (a hard-coded
	// 8888): every check of the run holds it shared, and a check whose
	// program found its own port taken by another program of the run
	// runs again holding it alone.
	fixed sync.RWMutex
}

// Shared marks a check of the run as running until the returned function
// is called; it waits while a check runs Alone.
func (p *Ports) Shared() (release func()) {
	p.fixed.RLock()
	return p.fixed.RUnlock
}

// Alone waits until no other check of the run is running and keeps any
// from starting until the returned function is called: for a check whose
// program binds a port of its own choosing, which another program of the
// run held.
func (p *Ports) Alone() (release func()) {
	p.fixed.Lock()
	return p.fixed.Unlock
}

// PortRange is the range Ports picks from.
const (
	PortRangeLow  = 20000
	PortRangeHigh = 32000
)

// NewPorts returns an allocator seeded from seed.
func NewPorts(seed uint64) *Ports {
	return &Ports{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), used: map[int]bool{}, lo: PortRangeLow, hi: PortRangeHigh}
}

// portStride and portPhase fix which ports Ports hands out: those equal
// to portPhase modulo portStride. The ports either side of a port handed
// out are never handed out, by this allocator or by another one of any
// grading beside it: a program that binds its port plus or minus one (a
// mistake the start checks name) finds that port free, and fails for its
// own mistake, never because another grading holds it.
const (
	portStride = 4
	portPhase  = 1
)

// Next returns a port that is free for both TCP and UDP on all addresses
// right now, and whose neighbours (the port minus one and plus one) are
// free too.
func (p *Ports) Next() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	slots := (p.hi - p.lo) / portStride
	for range 400 {
		port := p.lo + p.rng.IntN(slots)*portStride + portPhase
		if p.used[port] {
			continue
		}
		if PortFree(port) && PortFree(port-1) && PortFree(port+1) {
			p.used[port] = true
			p.order = append(p.order, port)
			if len(p.order) > slots/2 {
				delete(p.used, p.order[0])
				p.order = p.order[1:]
			}
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free port found in %d-%d", p.lo, p.hi)
}

// PortFree reports whether a program can bind port right now, for TCP
// (IPv4 and IPv6) and UDP on every address. The TCP
// probe binds without SO_REUSEADDR, as most student programs do: a port
// whose earlier connections are still in TIME_WAIT (a server that closed
// first, in a previous grading) is refused to them, while Go's listeners,
// which set SO_REUSEADDR, would bind it.
func PortFree(port int) bool {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 0)
		}); err != nil {
			return err
		}
		return serr
	}}
	for _, nw := range []string{"tcp", "tcp6"} {
		host := "0.0.0.0"
		if nw == "tcp6" {
			host = "::"
		}
		l, err := lc.Listen(context.Background(), nw, net.JoinHostPort(host, fmt.Sprint(port)))
		if err != nil {
			if nw == "tcp6" {
				continue // no IPv6 here
			}
			return false
		}
		l.Close()
	}
	c, err := net.ListenPacket("udp4", fmt.Sprintf("0.0.0.0:%d", port))
	if err != nil {
		return false
	}
	c.Close()
	return true
}
