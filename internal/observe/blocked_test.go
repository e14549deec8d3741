package observe

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/proctree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBlockedReading runs Python programs that sleep in different ways and
// asks whether each is blocked reading a socket: only a blocking read of a
// socket counts, not a read with a timeout (a poll), a timer or a read of
// a pipe.
func TestBlockedReading(t *testing.T) {
	needPython(t)
	const udp = "import socket, sys, time\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(('127.0.0.1', 0))\n"
	tests := []struct {
		name, program string
		call          string // "" when not blocked reading a socket
	}{
		{"recvfrom on a UDP socket", udp + "print('ready', flush=True)\ns.recvfrom(100)", "recvfrom"},
		{"recv on a UDP socket", udp + "print('ready', flush=True)\ns.recv(100)", "recvfrom"},
		{"recvfrom with a timeout", udp + "s.settimeout(30)\nprint('ready', flush=True)\ns.recvfrom(100)", ""},
		{"a sleep", udp + "print('ready', flush=True)\ntime.sleep(30)", ""},
		{"a read of standard input", udp + "print('ready', flush=True)\nsys.stdin.read()", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("python3", "-c", tc.program)
			stdin, err := cmd.StdinPipe() // held open: a read of it sleeps
			require.NoError(t, err)
			out, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			t.Cleanup(func() {
				stdin.Close()
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			})
			_, err = bufio.NewReader(out).ReadString('\n')
			require.NoError(t, err)
			pid := cmd.Process.Pid
			// Once the program sleeps in its last call, the answer is
			// final: look until then.
			var b proctree.Blocked
			var ok bool
			require.Eventually(t, func() bool {
				b, ok, err = BlockedReading(pid)
				if errors.Is(err, proctree.ErrNoSyscall) {
					return true
				}
				return ok || sleepsInCall(pid)
			}, 10*time.Second, 5*time.Millisecond)
			if errors.Is(err, proctree.ErrNoSyscall) {
				t.Skipf("SKIPPED: the kernel does not show system calls here: %v", err)
			}
			b, ok, err = BlockedReading(pid)
			require.NoError(t, err)
			if tc.call == "" {
				assert.False(t, ok, "not blocked reading a socket; seen: %v", b)
				return
			}
			require.True(t, ok, "blocked reading a socket")
			assert.Equal(t, tc.call, b.Call)
			assert.Equal(t, "socket:[", socketLink(t, pid, b.FD)[:8])
		})
	}
}

// sleepsInCall reports whether pid sleeps in a system call other than the
// ones of Python's start (a read of its own files and the like are brief).
func sleepsInCall(pid int) bool {
	stat, err := proctree.New("").Stat(pid)
	if err != nil || stat.State != "S" {
		return false
	}
	line, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/syscall")
	if err != nil {
		return false
	}
	f := bytes.Fields(line)
	if len(f) == 0 {
		return false
	}
	nr, err := strconv.Atoi(string(f[0]))
	return err == nil && nr >= 0
}

// socketLink reads what fd of pid links to.
func socketLink(t *testing.T, pid, fd int) string {
	t.Helper()
	l, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + strconv.Itoa(fd))
	require.NoError(t, err)
	return l
}
