package harness

import (
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPortFreeTimeWait: a port whose server side of a connection is in
// TIME_WAIT (the server closed first) cannot be bound by a program that
// does not set SO_REUSEADDR, so PortFree must not hand it out.
func TestPortFreeTimeWait(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	client, err := net.Dial("tcp4", ln.Addr().String())
	require.NoError(t, err)
	server, err := ln.Accept()
	require.NoError(t, err)
	require.NoError(t, server.Close()) // the server closes first: TIME_WAIT on its side
	_, err = io.ReadAll(client)
	require.NoError(t, err)
	require.NoError(t, client.Close())
	require.NoError(t, ln.Close())

	// Go's own listener (SO_REUSEADDR) still binds it...
	l2, err := net.Listen("tcp4", ln.Addr().String())
	require.NoError(t, err, "a listener with SO_REUSEADDR binds a port in TIME_WAIT")
	require.NoError(t, l2.Close())
	// ...but a student's socket would not, and PortFree says so.
	require.False(t, PortFree(port), "port %d has a connection in TIME_WAIT", port)

	// A port nobody used is free.
	fresh, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	freePort := fresh.Addr().(*net.TCPAddr).Port
	require.NoError(t, fresh.Close())
	require.True(t, PortFree(freePort))
}

// TestPortsNeighboursFree: every port handed out is one of the stride's,
// so that no port handed out (by this allocator or another one, of a
// grading beside it) is the neighbour of another, and its neighbours are
// free when it is handed out.
func TestPortsNeighboursFree(t *testing.T) {
	a, b := NewPorts(1), NewPorts(2)
	seen := map[int]bool{}
	for range 50 {
		for _, ps := range []*Ports{a, b} {
			port, err := ps.Next()
			require.NoError(t, err)
			require.Equal(t, portPhase, port%portStride, "port %d is not one of the stride's", port)
			require.False(t, seen[port-1] || seen[port+1], "port %d is the neighbour of one already handed out", port)
			seen[port] = true
		}
	}
	// A port whose neighbour is held is not handed out: an allocator whose
	// range holds one port of the stride, whose neighbour is held, finds
	// none; once the neighbour is free, it hands that port out.
	want, err := NewPorts(3).Next()
	require.NoError(t, err)
	held, err := net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", want-1))
	require.NoError(t, err)
	one := NewPorts(4)
	one.lo, one.hi = want-portPhase, want-portPhase+portStride
	_, err = one.Next()
	require.Error(t, err, "port %d is handed out while its neighbour %d is held", want, want-1)
	require.NoError(t, held.Close())
	got, err := one.Next()
	require.NoError(t, err)
	require.Equal(t, want, got)
}

// TestPortsLongRun: a run that hands out many more ports than the range
// holds (a flake guard's hundreds of gradings) never runs out, and a port
// is handed out again only after many others.
func TestPortsLongRun(t *testing.T) {
	p := NewPorts(5)
	p.lo, p.hi = 20000, 20000+portStride*40 // 40 ports of the stride
	last := map[int]int{}
	for i := range 200 {
		port, err := p.Next()
		require.NoError(t, err, "port %d of the run", i)
		if j, ok := last[port]; ok {
			require.GreaterOrEqual(t, i-j, 20, "port %d handed out again after %d others", port, i-j)
		}
		last[port] = i
	}
}
