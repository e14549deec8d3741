package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/observe"
	"github.com/netgrade/netgrade/internal/poll"
	"github.com/netgrade/netgrade/internal/sandbox/sandboxtest/hostile"
	"github.com/prometheus/procfs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nonRootEnv is set in the environment of this test binary when
// TestHostileAsNonRoot runs it again as an unprivileged user.
const nonRootEnv = "NETGRADE_TEST_NONROOT"

// hostileLimits are the limits of the hostile programs in these tests: low,
// so that what the limits stop costs the machine little.
var hostileLimits = Limits{Memory: 64 << 20, Processes: 64, Output: 1 << 20}

// daemonQuiet is the window in which the setsid daemon, alive, would
// append at least four lines to its log: a log unchanged for that long
// after Stop shows the daemon dead.
const daemonQuiet = 500 * time.Millisecond

// TestHostileCorpus starts every hostile program of the corpus, waits for
// it to show its behaviour, stops it, and checks that nothing of it is
// left: no process (the setsid daemon included, whose log must stop
// growing), no zombie, no cgroup; and that a program stopped by a limit
// says which. It runs with the containment netgrade finds here, and
// without a cgroup (the subreaper path) where that differs.
func TestHostileCorpus(t *testing.T) {
	needPython(t)
	progs, err := hostile.All()
	require.NoError(t, err)
	modes := []struct {
		name     string
		noCgroup bool
	}{{"auto", false}}
	if Probe().Kind == ContainCgroup {
		modes = append(modes, struct {
			name     string
			noCgroup bool
		}{"no-cgroup", true}) // the subreaper path
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			for _, prog := range progs {
				t.Run(prog.Name, func(t *testing.T) {
					runHostile(t, prog, mode.noCgroup)
				})
			}
		})
	}
}

func runHostile(t *testing.T, prog hostile.Program, noCgroup bool) {
	root := t.TempDir()
	dir, err := os.MkdirTemp(root, "student-")
	require.NoError(t, err)
	tmp := filepath.Join(root, "tmp")
	home := filepath.Join(root, "home")
	require.NoError(t, os.Mkdir(tmp, 0o755))
	require.NoError(t, os.Mkdir(home, 0o755))
	for _, p := range hostile.EscapePaths(dir, home) {
		t.Cleanup(func() { os.Remove(p) })
	}
	file, err := prog.Write(dir, "udp-server.py", 0)
	require.NoError(t, err)
	port, err := NewPorts(uint64(time.Now().UnixNano())).Next()
	require.NoError(t, err)

	begin := time.Now()
	p := start(t, Spec{Argv: []string{"python3", file, strconv.Itoa(port)}, Dir: dir,
		Env: []string{"TMPDIR=" + tmp, "HOME=" + home}, Limits: hostileLimits, NoCgroup: noCgroup})
	c := p.Containment()
	t.Logf("containment: %s", c)
	switch {
	case os.Getenv(nonRootEnv) == "1":
		assert.Equal(t, ContainSubreaper, c.Kind, "an unprivileged user has no cgroup here")
		assert.Equal(t, "rlimit", c.Processes.By, "RLIMIT_NPROC binds an unprivileged user")
	case noCgroup:
		assert.Equal(t, ContainSubreaper, c.Kind)
	}

	var daemon int
	switch prog.Name {
	case "fork-bomb":
		// The bomb has gone off: a fork was refused, or (where no process
		// limit binds, as for root without a pids controller) it runs more
		// processes than the limit would have allowed.
		waitOn(t, func() poll.Result {
			if printed(p, "fork failed") {
				return poll.Done()
			}
			tree, _ := observe.Tree(p.Pid())
			if c.Processes.By == "" && int64(len(tree)) > hostileLimits.Processes {
				return poll.Done()
			}
			return poll.Continue("%d processes, no fork refused yet", len(tree))
		}, 60*time.Second, 20*time.Millisecond)
	case "memory-hog", "endless-output":
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		require.NoError(t, p.WaitOutput(ctx), "the limit stops it")
		ex := p.Exit()
		want := LimitHit{Kind: prog.Limit}
		if prog.Name == "memory-hog" {
			want.Value = hostileLimits.Memory
			want.PerProcess = c.Memory.By == "rlimit"
		} else {
			want.Value = hostileLimits.Output
			want.Stream = ex.Limit.Stream
			assert.Contains(t, []Stream{Stdout, Stderr}, ex.Limit.Stream)
			assert.Equal(t, "SIGKILL", ex.StoppedBy)
		}
		assert.Equal(t, want, ex.Limit, "exit: %s; printed: %v", ex, p.Output().Lines())
		assert.Contains(t, ex.String(), Bytes(want.Value), "the explanation names the limit's value")
	case "stdin-wait":
		waitPrinted(t, p, "waiting for the port on standard input")
	case "setsid-daemon":
		daemon = waitDaemon(t, filepath.Join(tmp, hostile.DaemonLog))
		// The daemon left the group and lost its parent: netgrade, the
		// subreaper, is its parent now.
		waitOn(t, func() poll.Result {
			st, err := procStat(daemon)
			if err != nil {
				return poll.Fail(err)
			}
			if st.PPID == os.Getpid() {
				return poll.Done()
			}
			return poll.Continue("the daemon's parent is %d", st.PPID)
		}, 10*time.Second, 0)
		waitPrinted(t, p, fmt.Sprintf("Started server on UDP/%d", port))
	default:
		waitPrinted(t, p, fmt.Sprintf("Started server on UDP/%d", port))
	}

	t.Logf("%s: stopping after %v", prog.Name, time.Since(begin).Round(time.Millisecond))
	ex := p.Stop()
	t.Logf("%s: %s after %v", prog.Name, ex, time.Since(begin).Round(time.Millisecond))
	assert.True(t, ex.Exited)
	assert.Empty(t, processesMarked(p.mark), "nothing of the program runs after Stop")
	assert.Empty(t, zombiesOf(p), "every orphan netgrade inherited is reaped")
	if c.Kind == ContainCgroup {
		assert.NoDirExists(t, c.Cgroup, "the program's cgroup is removed")
	}
	if prog.Name == "ignores-signals" {
		assert.Equal(t, "SIGKILL", ex.StoppedBy, "only SIGKILL ends it")
	}
	if prog.Name == "setsid-daemon" {
		log := filepath.Join(tmp, hostile.DaemonLog)
		before, err := os.ReadFile(log)
		require.NoError(t, err)
		assert.Equal(t, 1, bytes.Count(before, []byte("start ")), "one daemon")
		_, err = procStat(daemon)
		assert.Error(t, err, "the daemon %d is gone", daemon)
		time.Sleep(daemonQuiet) // a negative window: the daemon must not write again
		after, err := os.ReadFile(log)
		require.NoError(t, err)
		assert.Equal(t, len(before), len(after), "the daemon wrote after the program was stopped")
	}
}

// printed reports whether the program printed a line holding text.
func printed(p *Process, text string) bool {
	for _, l := range p.Output().Lines() {
		if strings.Contains(l.Text, text) {
			return true
		}
	}
	return false
}

// waitPrinted waits for the program to print a line holding text.
func waitPrinted(t *testing.T, p *Process, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _, err := p.Output().Wait(ctx, 0, func(l Line) bool { return strings.Contains(l.Text, text) })
	require.NoError(t, err, "waiting for %q; printed: %v", text, p.Output().Lines())
}

// waitDaemon waits for the setsid daemon's first line in its log and
// returns its PID.
func waitDaemon(t *testing.T, log string) int {
	t.Helper()
	var pid int
	waitOn(t, func() poll.Result {
		data, err := os.ReadFile(log)
		if err != nil {
			return poll.Continue("no log yet: %v", err)
		}
		f := strings.Fields(string(data))
		if len(f) < 3 || f[0] != "start" {
			return poll.Continue("log: %q", data)
		}
		pid, err = strconv.Atoi(f[1])
		if err != nil {
			return poll.Fail(err)
		}
		return poll.Done()
	}, 20*time.Second, 10*time.Millisecond)
	return pid
}

func procStat(pid int) (procfs.ProcStat, error) {
	pr, err := procfs.NewProc(pid)
	if err != nil {
		return procfs.ProcStat{}, err
	}
	st, err := pr.Stat()
	if err == nil && (st.State == "Z" || st.State == "X") {
		return st, fmt.Errorf("process %d is a zombie", pid)
	}
	return st, err
}

// processesMarked lists every live process of the machine that carries a
// program's mark, wherever it was re-parented.
func processesMarked(mark string) []string {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return []string{err.Error()}
	}
	all, err := fs.AllProcs()
	if err != nil {
		return []string{err.Error()}
	}
	want := []byte(markVar + "=" + mark + "\x00")
	var out []string
	for _, pr := range all {
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pr.PID))
		if err != nil || !bytes.Contains(env, want) {
			continue
		}
		st, err := pr.Stat()
		if err != nil || st.State == "Z" {
			continue
		}
		out = append(out, fmt.Sprintf("%d %s (%s, parent %d)", pr.PID, st.Comm, st.State, st.PPID))
	}
	return out
}

// zombiesOf lists the zombie children of this process that were the
// program's: in its process group or its cgroup.
func zombiesOf(p *Process) []int {
	var out []int
	for _, c := range p.sup.children() {
		if c.State != "Z" || c.PID == p.pgid {
			continue
		}
		if c.PGRP == p.pgid || (p.cg != nil && p.cg.holds(c.PID, p.sup.mount)) {
			out = append(out, c.PID)
		}
	}
	return out
}

// TestHostileAsNonRoot runs TestHostileCorpus again as an unprivileged
// user (nobody), as on a student's laptop: no cgroup can be made, so the
// subreaper contains the programs and RLIMIT_NPROC bounds the fork bomb.
func TestHostileAsNonRoot(t *testing.T) {
	if os.Getenv(nonRootEnv) == "1" {
		t.Skip("already the unprivileged run")
	}
	if os.Getuid() != 0 {
		t.Skip("SKIPPED: not root: TestHostileCorpus ran as this unprivileged user already")
	}
	needPython(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skipf("SKIPPED: setpriv not found (%v): cannot run the tests as another user", err)
	}
	// The unprivileged user needs a Python outside root's home folder.
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("SKIPPED: no %s for the unprivileged user: %v", python, err)
	}
	dir, err := os.MkdirTemp("", "netgrade-nonroot-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o777))
	self, err := os.Executable()
	require.NoError(t, err)
	bin := filepath.Join(dir, "harness.test")
	data, err := os.ReadFile(self)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, data, 0o755))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
		bin, "-test.run", "^TestHostileCorpus$", "-test.v", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "TMPDIR=" + dir, "HOME=" + dir, nonRootEnv + "=1", "LANG=C.UTF-8"}
	out, err := cmd.CombinedOutput()
	t.Logf("as nobody:\n%s", out)
	require.NoError(t, err)
	assert.Contains(t, string(out), "--- PASS: TestHostileCorpus")
	assert.NotContains(t, string(out), "SKIP: TestHostileCorpus")
}

// waitOn looks with look until it is done, every `every` (or with the
// default backoff when 0), and fails the test at the timeout with what the
// last look saw, or at once when a look fails.
func waitOn(t *testing.T, look func() poll.Result, timeout, every time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var opts []poll.Option
	if every > 0 {
		opts = append(opts, poll.Backoff(every, every))
	}
	_, err := poll.Wait(ctx, func(context.Context) poll.Result { return look() }, opts...)
	require.NoError(t, err)
}
