package sockdiag_test

import (
	"net"
	"net/netip"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netgrade/netgrade/internal/sockdiag"
)

// inodeOf returns the inode of a socket, as /proc/PID/fd shows it.
func inodeOf(t *testing.T, c syscall.Conn) uint64 {
	t.Helper()
	rc, err := c.SyscallConn()
	require.NoError(t, err)
	var st unix.Stat_t
	var serr error
	require.NoError(t, rc.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), &st) }))
	require.NoError(t, serr)
	return st.Ino
}

func dial(t *testing.T) *sockdiag.Conn {
	t.Helper()
	c, err := sockdiag.Dial()
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// TestList: each kind of socket a graded program holds is found by its
// port, with its state, address and inode.
func TestList(t *testing.T) {
	c := dial(t)
	tcp4, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer tcp4.Close()
	tcp6, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Logf("no IPv6 loopback: %v", err)
	} else {
		defer tcp6.Close()
	}
	udp4, err := net.ListenPacket("udp4", "0.0.0.0:0")
	require.NoError(t, err)
	defer udp4.Close()
	udpc, err := net.DialUDP("udp4", nil, udp4.LocalAddr().(*net.UDPAddr))
	require.NoError(t, err)
	defer udpc.Close()

	type sock struct {
		family uint8
		proto  sockdiag.Proto
		port   int
		conn   syscall.Conn
		state  uint8
		addr   string
	}
	cases := map[string]sock{
		"tcp4 listener":    {unix.AF_INET, sockdiag.TCP, tcp4.Addr().(*net.TCPAddr).Port, tcp4.(*net.TCPListener), sockdiag.Listen, "127.0.0.1"},
		"udp4 unconnected": {unix.AF_INET, sockdiag.UDP, udp4.LocalAddr().(*net.UDPAddr).Port, udp4.(*net.UDPConn), sockdiag.Close, "0.0.0.0"},
		"udp4 connected":   {unix.AF_INET, sockdiag.UDP, udpc.LocalAddr().(*net.UDPAddr).Port, udpc, sockdiag.Established, "127.0.0.1"},
	}
	if tcp6 != nil {
		cases["tcp6 listener"] = sock{unix.AF_INET6, sockdiag.TCP, tcp6.Addr().(*net.TCPAddr).Port, tcp6.(*net.TCPListener), sockdiag.Listen, "::1"}
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			es, err := c.List(sockdiag.Query{Family: s.family, Proto: s.proto, Port: uint16(s.port)})
			require.NoError(t, err)
			require.Len(t, es, 1)
			e := es[0]
			assert.Equal(t, s.state, e.State)
			assert.Equal(t, uint16(s.port), e.SrcPort)
			assert.Equal(t, s.addr, e.Src.String())
			assert.Equal(t, s.proto, e.Proto)
			assert.Equal(t, inodeOf(t, s.conn), e.Inode)
			assert.Equal(t, uint32(unix.Getuid()), e.UID)
		})
	}
}

// TestStatesAndPortFilter: the state mask and the port select; a port
// nothing holds lists nothing.
func TestStatesAndPortFilter(t *testing.T) {
	c := dial(t)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	for _, tc := range []struct {
		name  string
		q     sockdiag.Query
		wantN int
	}{
		{"listen only", sockdiag.Query{Family: unix.AF_INET, Proto: sockdiag.TCP, Port: port, States: sockdiag.States(sockdiag.Listen)}, 1},
		{"established only", sockdiag.Query{Family: unix.AF_INET, Proto: sockdiag.TCP, Port: port, States: sockdiag.States(sockdiag.Established)}, 0},
		{"udp on a tcp port", sockdiag.Query{Family: unix.AF_INET, Proto: sockdiag.UDP, Port: port}, 0},
		{"other family", sockdiag.Query{Family: unix.AF_INET6, Proto: sockdiag.TCP, Port: port}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es, err := c.List(tc.q)
			require.NoError(t, err)
			assert.Len(t, es, tc.wantN)
		})
	}
}

// TestAcceptQueue: a listener's RQueue counts the connections the kernel
// completed that nobody accepted yet.
func TestAcceptQueue(t *testing.T) {
	c := dial(t)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	for i := range 3 {
		conn, err := net.Dial("tcp4", l.Addr().String())
		require.NoError(t, err)
		defer conn.Close()
		es, err := c.List(sockdiag.Query{Family: unix.AF_INET, Proto: sockdiag.TCP, Port: uint16(port), States: sockdiag.States(sockdiag.Listen)})
		require.NoError(t, err)
		require.Len(t, es, 1)
		assert.Equal(t, uint32(i+1), es[0].RQueue)
	}
}

// TestServer: the lookup finds the socket a client on 127.0.0.1 reaches,
// and only that one.
func TestServer(t *testing.T) {
	c := dial(t)
	lo := netip.MustParseAddr("127.0.0.1")
	tcpAny, err := net.Listen("tcp4", "0.0.0.0:0")
	require.NoError(t, err)
	defer tcpAny.Close()
	udpLo, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer udpLo.Close()
	udpOther, err := net.ListenPacket("udp4", "127.0.0.2:0")
	require.NoError(t, err)
	defer udpOther.Close()
	dual, err := net.Listen("tcp", "[::]:0")
	if err != nil {
		t.Logf("no IPv6: %v", err)
	}
	type want struct {
		proto sockdiag.Proto
		port  int
		found bool
		conn  syscall.Conn
	}
	cases := map[string]want{
		"tcp on every address": {sockdiag.TCP, tcpAny.Addr().(*net.TCPAddr).Port, true, tcpAny.(*net.TCPListener)},
		"udp on 127.0.0.1":     {sockdiag.UDP, udpLo.LocalAddr().(*net.UDPAddr).Port, true, udpLo.(*net.UDPConn)},
		"udp on 127.0.0.2":     {sockdiag.UDP, udpOther.LocalAddr().(*net.UDPAddr).Port, false, nil},
		"tcp on a udp port":    {sockdiag.TCP, udpLo.LocalAddr().(*net.UDPAddr).Port, false, nil},
	}
	if dual != nil {
		defer dual.Close()
		cases["tcp dual stack"] = want{sockdiag.TCP, dual.Addr().(*net.TCPAddr).Port, true, dual.(*net.TCPListener)}
	}
	for name, w := range cases {
		t.Run(name, func(t *testing.T) {
			e, found, err := c.Server(sockdiag.Query{Family: unix.AF_INET, Proto: w.proto}, netip.AddrPortFrom(lo, uint16(w.port)))
			require.NoError(t, err)
			require.Equal(t, w.found, found)
			if found {
				assert.Equal(t, uint16(w.port), e.SrcPort)
				assert.Equal(t, inodeOf(t, w.conn), e.Inode)
			}
		})
	}
}
