package observe

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netgrade/netgrade/internal/poll"
	"github.com/netgrade/netgrade/internal/proctree"
	"github.com/netgrade/netgrade/internal/sockdiag"
)

// needPython skips a test without python3 on PATH, or fails it when
// NETGRADE_REQUIRE_PYTHON=1.
func needPython(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		if os.Getenv("NETGRADE_REQUIRE_PYTHON") == "1" {
			tb.Fatalf("python3 is required (NETGRADE_REQUIRE_PYTHON=1) but not found: %v", err)
		}
		tb.Skipf("SKIPPED: no python3 on PATH (%v); set NETGRADE_REQUIRE_PYTHON=1 to make this a failure", err)
	}
}

// serverScript holds, in a parent and a forked child: a TCP listener on
// 127.0.0.1, a UDP socket on every address, a connected UDP socket, and an
// IPv6 TCP listener when the machine has IPv6. It prints "ready" when all
// are open.
const serverScript = `import os, socket, sys, time
t = socket.socket(); t.bind(("127.0.0.1", %d)); t.listen()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("", %d))
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.connect(("127.0.0.1", %d))
try:
    v6 = socket.socket(socket.AF_INET6); v6.bind(("::1", 0)); v6.listen()
except OSError:
    pass
if os.fork() == 0:
    k = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); k.bind(("127.0.0.1", 0))
    time.sleep(60); sys.exit(0)
print("ready", flush=True)
time.sleep(60)
`

// startSockets starts serverScript on two fresh ports and waits for it.
func startSockets(tb testing.TB) (*prog, int, int) {
	tb.Helper()
	needPython(tb)
	ports := freePorts(tb, 2)
	tcp, udp := ports[0], ports[1]
	p := start(tb, "python3", "-c", fmt.Sprintf(serverScript, tcp, udp, udp))
	require.NoError(tb, p.waitLine("ready", 20*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The child's socket: wait until the tree shows two processes.
	_, err := poll.Wait(ctx, func(context.Context) poll.Result {
		tr, _ := Tree(p.Pid())
		inodes, _ := socketInodes(p.Pid())
		if len(tr) == 2 && len(inodes) >= 4 {
			return poll.Done()
		}
		return poll.Continue("%d processes holding %d sockets", len(tr), len(inodes))
	})
	require.NoError(tb, err)
	return p, tcp, udp
}

// TestMechanismsAgree: every cheap mechanism gives what its fallback, the
// reading netgrade did before, gives.
func TestMechanismsAgree(t *testing.T) {
	p, tcp, udp := startSockets(t)
	pid := p.Pid()

	t.Run("tree", func(t *testing.T) {
		tree, via, err := TreeVia(pid)
		require.NoError(t, err)
		assert.Equal(t, ViaChildren, via)
		scanned, err := scanTree(proctree.New(""), pid)
		require.NoError(t, err)
		// The same processes; their states may change between the reads.
		ids := func(ps []ProcInfo) (out [][4]uint64) {
			for _, p := range ps {
				out = append(out, [4]uint64{uint64(p.PID), uint64(p.PPID), uint64(p.PGRP), p.Started})
			}
			return out
		}
		assert.Equal(t, ids(scanned), ids(tree))
		require.Len(t, tree, 2)
		assert.Equal(t, pid, tree[1].PPID)
	})
	t.Run("sockets", func(t *testing.T) {
		socks, via, err := SocketsVia(pid)
		require.NoError(t, err)
		assert.Equal(t, ViaSockDiag, via)
		inodes, err := socketInodes(pid)
		require.NoError(t, err)
		old, err := procNetSockets(pid, inodes)
		require.NoError(t, err)
		assert.Equal(t, old, socks)
		var seen []string
		for _, s := range socks {
			seen = append(seen, s.String()+" "+s.State)
		}
		assert.Contains(t, seen, fmt.Sprintf("TCP 127.0.0.1:%d LISTEN", tcp))
		assert.Contains(t, seen, fmt.Sprintf("UDP 0.0.0.0:%d BOUND", udp))
		assert.GreaterOrEqual(t, len(socks), 4, "the forked child's socket counts: %v", seen)
	})
	t.Run("listen queue", func(t *testing.T) {
		for i := range 2 {
			conn, err := (&net0{}).dial(tcp)
			require.NoError(t, err)
			defer conn.Close()
			c, err := sockdiag.Dial()
			require.NoError(t, err)
			q, found, err := diagListenQueue(c, tcp)
			c.Close()
			require.NoError(t, err)
			oq, ofound, err := procNetListenQueue(pid, tcp)
			require.NoError(t, err)
			assert.True(t, found)
			assert.Equal(t, ofound, found)
			assert.Equal(t, i+1, q)
			assert.Equal(t, oq, q)
		}
		_, found, err := ListenQueue(pid, udp)
		require.NoError(t, err)
		assert.False(t, found, "nothing listens on the UDP port over TCP")
	})
}

// TestAwaitBoundSaysHow: the wait names its mechanism and takes a handful
// of looks, not one per millisecond.
func TestAwaitBoundSaysHow(t *testing.T) {
	p, tcp, udp := startSockets(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := AwaitBound(ctx, p.Pid(), "tcp", tcp, p.Done())
	require.NoError(t, err)
	assert.Equal(t, ViaSockDiag, r.Via)
	assert.Equal(t, 1, r.Looks, "already listening: one look")
	assert.Equal(t, tcp, r.Socket.Port)

	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	r, err = AwaitBound(ctx, p.Pid(), "tcp", udp, p.Done())
	require.ErrorIs(t, err, context.DeadlineExceeded)
	// 1+2+4+8 ms, then one look every 16 ms at most.
	assert.LessOrEqual(t, r.Looks, 18)
	assert.NotEmpty(t, r.Held, "the sockets held at the deadline")
}

// TestWaitGoneTree: the processes of a stopped tree are seen gone through
// their pidfds.
func TestWaitGoneTree(t *testing.T) {
	p, _, _ := startSockets(t)
	tree, err := Tree(p.Pid())
	require.NoError(t, err)
	require.Len(t, tree, 2)
	go p.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	via, err := WaitGone(ctx, tree)
	require.NoError(t, err)
	assert.Equal(t, ViaPidfd, via)
	for _, pi := range tree {
		assert.False(t, pi.Alive())
	}
}

// net0 dials loopback.
type net0 struct{}

func (net0) dial(port int) (interface{ Close() error }, error) {
	return netDial("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
}

var netDial = func(nw, addr string) (interface{ Close() error }, error) { return net.Dial(nw, addr) }

// TestProbeMechanisms: on this kernel (Linux with sock_diag, children lists
// and pidfd) every cheap mechanism is found.
func TestProbeMechanisms(t *testing.T) {
	m := ProbeMechanisms()
	assert.Equal(t, Mechanisms{Sockets: ViaSockDiag, Trees: ViaChildren, Exits: ViaPidfd}, m)
	assert.Equal(t, "sockets through netlink sock_diag, process trees through /proc/PID/task/*/children, exits through pidfd", m.String())
}

// TestBusy: a program at work is busy; one blocked in a sleep is not.
func TestBusy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script string
		busy   bool
	}{
		{"spinning", "while :; do :; done", true},
		{"sleeping", "exec sleep 60", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := start(t, "sh", "-c", tc.script)
			// Let it reach its loop or its sleep: a sleeping shell shows S
			// within a few looks.
			deadline := time.Now().Add(5 * time.Second)
			busy, _ := Busy(p.Pid())
			for !tc.busy && busy && time.Now().Before(deadline) {
				busy, _ = Busy(p.Pid())
			}
			assert.Equal(t, tc.busy, busy)
		})
	}
}

func TestWaitBound(t *testing.T) {
	needPython(t)
	ports := freePorts(t, 2)
	want, other := ports[0], ports[1]
	serve := func(port int) []string {
		return []string{"python3", "-c", fmt.Sprintf(`import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("", %d))
t = socket.socket()
t.bind(("127.0.0.1", 0))
t.listen()
time.sleep(60)`, port)}
	}
	t.Run("the asked port", func(t *testing.T) {
		p := start(t, serve(want)...)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, socks, err := WaitBound(ctx, p.Pid(), "udp", want, p.Done())
		require.NoError(t, err)
		assert.Equal(t, want, s.Port)
		assert.Equal(t, "BOUND", s.State)
		assert.True(t, s.Addr.IsUnspecified())
		var listening int
		for _, s := range socks {
			if s.Proto == "tcp" && s.State == "LISTEN" {
				listening++
				assert.Equal(t, "127.0.0.1", s.Addr.String())
			}
		}
		assert.Equal(t, 1, listening, "the TCP listener shows too: %v", socks)
	})
	t.Run("another port", func(t *testing.T) {
		p := start(t, serve(other)...)
		// First the program binds its port, however long it takes to
		// start on a busy machine; then the wait for the port it was not
		// given ends at its deadline.
		bctx, bcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer bcancel()
		_, _, err := WaitBound(bctx, p.Pid(), "udp", other, p.Done())
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		_, socks, err := WaitBound(ctx, p.Pid(), "udp", want, p.Done())
		require.ErrorIs(t, err, context.DeadlineExceeded)
		var held []string
		for _, s := range socks {
			held = append(held, s.String())
		}
		assert.Contains(t, held, fmt.Sprintf("UDP 0.0.0.0:%d", other))
	})
	t.Run("exits first", func(t *testing.T) {
		p := start(t, "python3", "-c", "raise SystemExit(3)")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _, err := WaitBound(ctx, p.Pid(), "udp", want, p.Done())
		require.ErrorIs(t, err, ErrExited)
		assert.Equal(t, 3, p.ExitCode())
	})
}

// WaitBound reads /proc only: no packet reaches the program. A UDP server
// that records whatever it receives must have received nothing.
func TestWaitBoundSendsNothing(t *testing.T) {
	needPython(t)
	port := freePorts(t, 1)[0]
	p := start(t, "python3", "-c", fmt.Sprintf(`import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", %d))
s.settimeout(1.5)
try:
    print("got", s.recvfrom(100))
except socket.timeout:
    print("nothing")`, port))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err := WaitBound(ctx, p.Pid(), "udp", port, p.Done())
	require.NoError(t, err)
	assert.NoError(t, p.waitLine("nothing", 10*time.Second))
}
