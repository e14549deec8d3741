package harness

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCgroup2Mount(t *testing.T) {
	cases := []struct {
		name, mountinfo, want string
	}{
		{"unified", "25 1 0:23 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n", "/sys/fs/cgroup"},
		{"hybrid", "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n" +
			"39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n" +
			"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n", "/sys/fs/cgroup/unified"},
		{"escaped", `41 31 0:38 / /mnt/my\040cgroups rw - cgroup2 none rw` + "\n", "/mnt/my cgroups"},
		{"none", "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "mountinfo")
			require.NoError(t, os.WriteFile(f, []byte(c.mountinfo), 0o644))
			got, err := cgroup2Mount(f)
			if c.want == "" {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestOwnCgroup(t *testing.T) {
	cases := []struct {
		name, file, want string
	}{
		{"v2", "0::/user.slice/user-1000.slice/user@1000.service/app.slice/vte.scope\n", "/user.slice/user-1000.slice/user@1000.service/app.slice/vte.scope"},
		{"hybrid", "8:pids:/\n4:memory:/x\n0::/\n", "/"},
		{"v1 only", "8:pids:/\n4:memory:/x\n", ""},
		{"deleted", "0::/gone (deleted)\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "cgroup")
			require.NoError(t, os.WriteFile(f, []byte(c.file), 0o644))
			got, err := ownCgroup(f)
			if c.want == "" {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

// TestCgroupLimitHit reads the limits a cgroup saw hit from its event
// files, as the kernel writes them.
func TestCgroupLimitHit(t *testing.T) {
	l := Limits{Memory: 512 << 20, Processes: 256, Output: 16 << 20}
	cases := []struct {
		name          string
		memory, pids  bool
		memEv, pidsEv string
		want          LimitHit
	}{
		{"none", true, true, "low 0\nhigh 0\nmax 3\noom 0\noom_kill 0\noom_group_kill 0\n", "max 0\n", LimitHit{}},
		{"out of memory", true, true, "low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\noom_group_kill 1\n", "max 0\n", LimitHit{Kind: LimitMemory, Value: 512 << 20}},
		{"pids", true, true, "oom_kill 0\n", "max 12\n", LimitHit{Kind: LimitProcesses, Value: 256}},
		{"memory first", true, true, "oom_kill 2\n", "max 12\n", LimitHit{Kind: LimitMemory, Value: 512 << 20}},
		{"no controllers", false, false, "oom_kill 2\n", "max 12\n", LimitHit{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "memory.events"), []byte(c.memEv), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "pids.events"), []byte(c.pidsEv), 0o644))
			cg := &cgroup{dir: dir, memory: c.memory, pids: c.pids}
			assert.Equal(t, c.want, cg.hit(l))
		})
	}
}

// TestExitStatusNamesTheLimit checks the words a student reads.
func TestExitStatusNamesTheLimit(t *testing.T) {
	cases := []struct {
		ex   ExitStatus
		want string
	}{
		{ExitStatus{Exited: true, Code: -1, Signal: "SIGKILL", Limit: LimitHit{Kind: LimitMemory, Value: 512 << 20}},
			"killed by SIGKILL: it used more than netgrade's memory limit of 512 MiB and the kernel killed it"},
		{ExitStatus{Exited: true, Code: 1, Limit: LimitHit{Kind: LimitMemory, Value: 64 << 20, PerProcess: true}},
			"exited with status 1: it ran out of memory: a process may use at most 64 MiB (netgrade's memory limit)"},
		{ExitStatus{Exited: true, Code: -1, Signal: "SIGINT", StoppedBy: "SIGINT", Limit: LimitHit{Kind: LimitProcesses, Value: 256}},
			"stopped by netgrade with SIGINT: it tried to run more than 256 processes and threads at once, netgrade's limit"},
		{ExitStatus{Exited: true, Code: -1, Signal: "SIGKILL", StoppedBy: "SIGKILL", Limit: LimitHit{Kind: LimitOutput, Value: 16 << 20, Stream: Stderr}},
			"stopped by netgrade with SIGKILL: it printed more than 16 MiB on stderr, netgrade's output limit, and netgrade killed it"},
		{ExitStatus{Exited: true, Code: 0}, "exited with status 0"},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			assert.Equal(t, c.want, c.ex.String())
		})
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{
		512 << 20: "512 MiB", 4 << 30: "4 GiB", 64 << 10: "64 KiB", 100: "100 bytes", 3<<20 + 1: "3.0 MiB",
	} {
		assert.Equal(t, want, Bytes(n))
	}
}

// TestContainmentString checks how --verbose and the reports describe a
// program's containment.
func TestContainmentString(t *testing.T) {
	cases := []struct {
		c    Containment
		want string
	}{
		{Containment{Kind: ContainCgroup, Cgroup: "/sys/fs/cgroup/a/netgrade-1-2",
			Memory: Enforced{Value: 512 << 20, By: "cgroup"}, Processes: Enforced{Value: 256, By: "cgroup"}, Output: Enforced{Value: 16 << 20, By: "netgrade"}},
			"cgroup /sys/fs/cgroup/a/netgrade-1-2, killed whole; memory 512 MiB by cgroup; processes 256 by cgroup; output 16 MiB a stream by netgrade"},
		{Containment{Kind: ContainSubreaper, Fallback: "cannot create a cgroup in /sys/fs/cgroup: permission denied",
			Memory:    Enforced{Value: 512 << 20, By: "rlimit", Why: "RLIMIT_DATA, for each process"},
			Processes: Enforced{Why: "netgrade runs as root, which RLIMIT_NPROC does not bind"}},
			"subreaper: process group, descendants and orphans re-parented to netgrade (no cgroup: cannot create a cgroup in /sys/fs/cgroup: permission denied); memory 512 MiB by rlimit (RLIMIT_DATA, for each process); processes unlimited (netgrade runs as root, which RLIMIT_NPROC does not bind); output unlimited"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.c.String())
	}
	p := Probe()
	assert.Contains(t, []string{ContainCgroup, ContainSubreaper, ContainGroup}, p.Kind)
	assert.Equal(t, DefaultLimits.Output, p.Output.Value)
	t.Logf("here: %s", p)
}

// TestCgroupRefused starts a program where a cgroup can be made but the
// kernel refuses to start a program in it (here: a directory that is not
// a cgroup): the program runs all the same, without a cgroup, and later
// programs do not try again.
func TestCgroupRefused(t *testing.T) {
	sup := &supervisor{self: os.Getpid(), parent: &cgroupParent{dir: t.TempDir()}}
	for i := range 2 {
		p, err := startWith(context.Background(), Spec{Argv: []string{"sh", "-c", "echo started; exec sleep 60"}}, nil, sup)
		require.NoError(t, err)
		t.Cleanup(func() { p.Stop() })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _, err = p.Output().Wait(ctx, 0, func(l Line) bool { return l.Text == "started" })
		require.NoError(t, err)
		c := p.Containment()
		assert.Equal(t, ContainSubreaper, c.Kind, "start %d", i)
		assert.Contains(t, c.Fallback, "the kernel refused to start", "start %d", i)
		assert.Equal(t, "rlimit", c.Memory.By)
		p.Stop()
		entries, err := os.ReadDir(sup.parent.dir)
		require.NoError(t, err)
		assert.Empty(t, entries, "the refused cgroup is removed")
	}
}

// TestMemoryErrorExplained: where the memory limit is an rlimit, the
// program's runtime reports it (Python: a MemoryError); what it printed
// on stderr explains the exit, even with a line of stdout read in its
// middle. pyenv's tests hold Python's side.
func TestMemoryErrorExplained(t *testing.T) {
	cases := []struct {
		name  string
		lines []Line
		code  int
		by    string
		want  string
	}{
		{"interleaved", []Line{
			{Stream: Stderr, Text: "Traceback (most recent call last):"},
			{Stream: Stderr, Text: `  File "s.py", line 15, in <module>`},
			{Stream: Stdout, Text: "Started server on UDP/24440"},
			{Stream: Stderr, Text: `    hog.append(b"\x01" * (64 << 20))`},
			{Stream: Stderr, Text: "MemoryError"},
		}, 1, "rlimit", LimitMemory},
		{"other error", []Line{
			{Stream: Stderr, Text: "Traceback (most recent call last):"},
			{Stream: Stderr, Text: `  File "s.py", line 3, in <module>`},
			{Stream: Stderr, Text: "OSError: [Errno 98] Address already in use"},
		}, 1, "rlimit", ""},
		{"cgroup enforces it", []Line{
			{Stream: Stderr, Text: "Traceback (most recent call last):"},
			{Stream: Stderr, Text: "MemoryError"},
		}, 1, "cgroup", ""},
		{"exit 0", []Line{{Stream: Stderr, Text: "MemoryError"}}, 0, "rlimit", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := &Process{rt: interp, out: NewOutput(0), exit: ExitStatus{Exited: true, Code: c.code},
				contain: Containment{Memory: Enforced{Value: 64 << 20, By: c.by}}}
			for _, l := range c.lines {
				p.out.add(l.Stream, []byte(l.Text+"\n"), time.Now())
			}
			p.explainMemoryError()
			assert.Equal(t, c.want, p.Exit().Limit.Kind)
		})
	}
}

// TestReserveThreads: the threads reserved stay, idle, after the call.
func TestReserveThreads(t *testing.T) {
	threads := func() int {
		entries, err := os.ReadDir("/proc/self/task")
		require.NoError(t, err)
		return len(entries)
	}
	before := threads()
	ReserveThreads(before + 8)
	after := threads()
	assert.GreaterOrEqual(t, after, before+8, "threads before %d, after %d", before, after)
}
