package harness

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"syscall"
)

// Ports hands out free loopback ports for programs under test. It picks
// them at random in a range below Linux's ephemeral ports and away from
// the ports students hard-code (1234, 5000, 8000, 8080, 8888, 9996, 12345...),
// so that a program that ignores its argument is caught, and it never hands
// out the same port twice in one grading run.
type Ports struct {
	mu   sync.Mutex
	rng  *rand.Rand
	used map[int]bool
	lo   int
	hi   int
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

// Next returns a port that is free for both TCP and UDP on all addresses
// right now.
func (p *Ports) Next() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range 200 {
		port := p.lo + p.rng.IntN(p.hi-p.lo)
		if p.used[port] {
			continue
		}
		if portFree(port) {
			p.used[port] = true
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free port found in %d-%d", p.lo, p.hi)
}

// strictListen is a listen configuration without SO_REUSEADDR (which Go
// sets by default): a student's server does not set it either, and without
// it a port still held by a connection in TIME_WAIT cannot be bound, so the
// probe must fail on such a port as the student's bind would.
var strictListen = net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 0)
	})
	if err != nil {
		return err
	}
	return serr
}}

func portFree(port int) bool {
	for _, nw := range []string{"tcp", "tcp6"} {
		host := "0.0.0.0"
		if nw == "tcp6" {
			host = "::"
		}
		l, err := strictListen.Listen(context.Background(), nw, net.JoinHostPort(host, fmt.Sprint(port)))
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
