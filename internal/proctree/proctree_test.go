package proctree_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netgrade/netgrade/internal/poll"
	"github.com/netgrade/netgrade/internal/proctree"
)

func TestParseStat(t *testing.T) {
	// minflt, cminflt, majflt, cmajflt, utime, stime, cutime, cstime,
	// priority, nice, num_threads, itrealvalue, starttime, ...
	tail := " 0 57 0 0 12 3 0 0 20 0 3 0 4242 0 0"
	for _, tc := range []struct {
		name string
		line string
		want proctree.Proc
		bad  bool
	}{
		{name: "python", line: "1234 (python3) S 1000 1234 1000 0 -1 4194560" + tail,
			want: proctree.Proc{PID: 1234, PPID: 1000, PGRP: 1234, Threads: 3, Comm: "python3", State: "S", Started: 4242, CPU: 150 * time.Millisecond, ChildFaults: 57}},
		{name: "name with spaces and parentheses", line: "7 (a) (b c) Z 1 7 7 0 -1 0" + tail,
			want: proctree.Proc{PID: 7, PPID: 1, PGRP: 7, Threads: 3, Comm: "a) (b c", State: "Z", Started: 4242, CPU: 150 * time.Millisecond, ChildFaults: 57}},
		{name: "truncated", line: "7 (x) S 1 7", bad: true},
		{name: "no name", line: "7 x S 1 7 7 0 -1 0" + tail, bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := proctree.ParseStat([]byte(tc.line + "\n"))
			if tc.bad {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// startTree starts a shell with two sleeping children and returns it.
func startTree(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sh", "-c", "sleep 30 & sleep 30 & echo started; wait")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	buf := make([]byte, 16)
	_, err = out.Read(buf) // both children forked
	require.NoError(t, err)
	return cmd
}

// TestWalkMatchesScan: the targeted reading finds the same tree as the
// full scan of /proc.
func TestWalkMatchesScan(t *testing.T) {
	cmd := startTree(t)
	r := proctree.New("")
	pid := cmd.Process.Pid
	walked, err := r.Walk(pid)
	require.NoError(t, err)
	all, err := r.Scan()
	require.NoError(t, err)
	want := []int{pid}
	for _, p := range all {
		if p.PPID == pid {
			want = append(want, p.PID)
		}
	}
	var got []int
	for _, p := range walked {
		got = append(got, p.PID)
	}
	slices.Sort(got)
	slices.Sort(want)
	assert.Equal(t, want, got)
	require.Len(t, walked, 3)
	assert.Equal(t, "sh", walked[0].Comm)
	for _, c := range walked[1:] {
		assert.Equal(t, pid, c.PPID)
		assert.Equal(t, walked[0].PGRP, c.PGRP)
	}
}

func TestWalkMissing(t *testing.T) {
	_, err := proctree.New("").Walk(1 << 30)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestSocketInodes(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	rc, err := l.(*net.TCPListener).SyscallConn()
	require.NoError(t, err)
	var st syscall.Stat_t
	require.NoError(t, rc.Control(func(fd uintptr) { require.NoError(t, syscall.Fstat(int(fd), &st)) }))
	got := map[uint64]bool{}
	require.NoError(t, proctree.New("").SocketInodes(os.Getpid(), got))
	assert.True(t, got[st.Ino], "inode %d among %v", st.Ino, got)
}

// TestWaitGone: a process that exits is seen at once through its pidfd; one
// that does not makes the wait time out naming it; one already replaced
// (another start time) is not waited for.
func TestWaitGone(t *testing.T) {
	r := proctree.New("")
	t.Run("exits", func(t *testing.T) {
		cmd := startTree(t)
		root, err := r.Stat(cmd.Process.Pid)
		require.NoError(t, err)
		time.AfterFunc(20*time.Millisecond, func() { _ = cmd.Process.Kill() })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		via, err := r.WaitGone(ctx, []proctree.Proc{root})
		require.NoError(t, err)
		assert.Equal(t, proctree.ByPidfd, via)
		assert.False(t, r.Alive(root))
	})
	t.Run("does not exit", func(t *testing.T) {
		cmd := startTree(t)
		root, err := r.Stat(cmd.Process.Pid)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		_, err = r.WaitGone(ctx, []proctree.Proc{root})
		var te *poll.TimeoutError
		require.ErrorAs(t, err, &te)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Contains(t, te.Last, "still running")
		assert.True(t, r.Alive(root))
	})
	t.Run("already replaced", func(t *testing.T) {
		cmd := startTree(t)
		root, err := r.Stat(cmd.Process.Pid)
		require.NoError(t, err)
		root.Started-- // another process once had this PID
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = r.WaitGone(ctx, []proctree.Proc{root})
		require.NoError(t, err)
	})
}
