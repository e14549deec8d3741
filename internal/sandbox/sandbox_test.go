package sandbox_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/sandbox"
	"github.com/netgrade/netgrade/internal/sandbox/sandboxtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// netgradeBin is a static netgrade binary (CGO_ENABLED=0), built once: the
// unit runner of the netns and docker sandboxes.
var netgradeBin string

func TestMain(m *testing.M) { sandboxtest.Main(m, &netgradeBin) }

// fixtureUnit writes the named fixtures (EXERCISE/NAME.py) into a student
// folder under their exercise's default file name and returns the unit.
func fixtureUnit(t *testing.T, student string, names ...string) (sandbox.Unit, []fixtures.Fixture) {
	t.Helper()
	all, err := fixtures.All()
	require.NoError(t, err)
	dir := t.TempDir()
	u := sandbox.Unit{Student: student, Dir: dir, Version: "test", TimeoutMS: sandbox.UnitTimeout(course.Registry().Exercises(), nil).Milliseconds()}
	var used []fixtures.Fixture
	for _, n := range names {
		var found bool
		for _, f := range all {
			if f.ID() != n {
				continue
			}
			found = true
			file := f.Exercise + ".py"
			require.NoError(t, os.WriteFile(filepath.Join(dir, file), f.Source, 0o644))
			u.Files = append(u.Files, sandbox.File{Exercise: f.Exercise, Path: file})
			used = append(used, f)
		}
		require.True(t, found, "no fixture %s", n)
	}
	return u, used
}

// eachSandbox runs f in a subtest per sandbox: the ones this machine
// cannot run skip their own subtest, or fail it under
// NETGRADE_REQUIRE_NETNS=1 / NETGRADE_REQUIRE_DOCKER=1.
func eachSandbox(t *testing.T, f func(t *testing.T, kind string, sb sandbox.Sandbox)) {
	t.Helper()
	sandboxtest.Each(t, netgradeBin, func() sandbox.Sandbox { return sandbox.NewProcess(course.Registry(), nil) }, f)
}

func TestGradeInEverySandbox(t *testing.T) {
	cases := []struct {
		name     string
		fixtures []string
	}{
		{"passing", []string{"udp-server/plain.py", "udp-client/plain.py"}},
		{"failing", []string{"udp-server/no_flush.py", "udp-client/sends_twice.py"}},
	}
	eachSandbox(t, func(t *testing.T, kind string, sb sandbox.Sandbox) {
		t.Cleanup(func() { assert.NoError(t, sb.Close()) })
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				u, fs := fixtureUnit(t, "student-"+tc.name, tc.fixtures...)
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
				defer cancel()
				res, err := sb.Grade(ctx, u)
				require.NoError(t, err)
				require.Len(t, res, len(fs))
				for i, f := range fs {
					assert.Equal(t, f.Exercise, res[i].Exercise)
					assert.Equal(t, kind, res[i].Sandbox, "the result records the sandbox")
					assert.Equal(t, "student-"+tc.name+"/"+f.Exercise+".py", res[i].Submission)
					assert.False(t, res[i].HasErrors(), "netgrade errors in %s: %+v", f.ID(), res[i].Checks)
					assert.Equal(t, f.Fails, res[i].IDs(report.Fail), "failed checks of %s in the %s sandbox", f.ID(), kind)
				}
			})
		}
	})
}

// probeSource is a udp-server submission that, each time it starts, tries
// to reach a TCP port the test holds on the host's loopback, tries to bind
// that same port, lists its network interfaces, and leaves behind a
// detached process (double fork, new session) carrying a marker; then it
// serves as a correct udp-server does.
const probeSource = `import os, socket, subprocess, sys, tempfile
from datetime import datetime

if len(sys.argv) != 2:
    print("Usage: udp-server.py PORT")
    sys.exit(1)

HOST_PORT = %d
MARK = %q
out = []
try:
    c = socket.create_connection(("127.0.0.1", HOST_PORT), timeout=2)
    c.sendall(MARK.encode())
    c.close()
    out.append("connect=reached")
except OSError as e:
    out.append("connect=" + type(e).__name__)
try:
    s = socket.socket()
    s.bind(("127.0.0.1", HOST_PORT))
    s.close()
    out.append("bind=ok")
except OSError as e:
    out.append("bind=" + type(e).__name__)
out.append("interfaces=" + ",".join(sorted(n for _, n in socket.if_nameindex())))
try:
    open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "written-by-probe"), "w").close()
    out.append("write=ok")
except OSError as e:
    out.append("write=" + type(e).__name__)
try:
    with tempfile.TemporaryFile() as f:
        f.write(b"scratch")
    out.append("tmp=ok")
except OSError as e:
    out.append("tmp=" + type(e).__name__)
def first(*paths):
    for p in paths:
        try:
            with open(p) as f:
                return f.read().strip()
        except OSError:
            pass
    return "none"
out.append("pids=" + first("/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/pids.max"))
out.append("memory=" + first("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max"))
print("PROBE " + " ".join(out), flush=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(300)", MARK])
    os._exit(0)
os.wait()

port = int(sys.argv[1])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("", port))
print(f"Started server on UDP/{port}", flush=True)
while True:
    data, addr = sock.recvfrom(4096)
    now = datetime.now()
    stamp = now.strftime("%%Y-%%m-%%d %%H:%%M:%%S") + f",{now.microsecond // 1000:03d}"
    print(f'[{stamp}] client {addr[0]} sent "{data.decode("utf-8", errors="replace")}"', flush=True)
`

// strayWindow is how long the test keeps accepting on the host's port after
// the grading ended, in case a connection made during it is still queued:
// a negative check, so a named window.
const strayWindow = 500 * time.Millisecond

func TestIsolation(t *testing.T) {
	eachSandbox(t, func(t *testing.T, kind string, sb sandbox.Sandbox) {
		t.Cleanup(func() { assert.NoError(t, sb.Close()) })
		host := sandboxtest.ListenLoopback(t)
		mark := fmt.Sprintf("netgrade-isolation-%s-%d-%d", kind, os.Getpid(), time.Now().UnixNano())
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "udp-server.py"), fmt.Appendf(nil, probeSource, host.Port, mark), 0o644))
		u := sandbox.Unit{Student: "probe", Dir: dir, Files: []sandbox.File{{Exercise: "udp-server", Path: "udp-server.py"}},
			TimeoutMS: sandbox.UnitTimeout(course.Registry().Exercises(), nil).Milliseconds()}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		res, err := sb.Grade(ctx, u)
		require.NoError(t, err)
		require.Len(t, res, 1)
		assert.Empty(t, res[0].IDs(report.Fail), "the probe is a correct udp-server")
		probes := probeLines(res[0])
		require.NotEmpty(t, probes, "the probe printed what it saw")
		left := sandboxtest.ProcessesWith(mark)
		t.Cleanup(func() { sandboxtest.Kill(left) })

		if sb.Isolated() {
			host.ExpectNone(t, strayWindow)
			for _, p := range probes {
				assert.Contains(t, p, "connect=ConnectionRefusedError", "the sandbox has a loopback of its own")
				assert.Contains(t, p, "bind=ok", "the host's port is free on the sandbox's own loopback")
				assert.Contains(t, p, "interfaces=lo", "the sandbox has no interface but lo")
				assert.NotContains(t, p, ",", "the sandbox has no interface but lo")
			}
			assert.Empty(t, left, "every process the submission started died with its sandbox")
			for _, p := range probes {
				assert.Contains(t, p, "write=OSError", "the submission's folder is read-only")
				assert.Contains(t, p, "tmp=ok", "the submission has a scratch folder")
			}
			if kind == sandbox.Docker {
				for _, p := range probes {
					assert.Contains(t, p, fmt.Sprintf("pids=%d", sandbox.DefaultPIDs), "the container's pids limit")
					assert.Contains(t, p, fmt.Sprintf("memory=%d", sandbox.DefaultMemory), "the container's memory limit")
				}
			}
			return
		}
		// The process sandbox isolates nothing: the same probe reaches
		// the host, which shows that the probe can see a hole.
		host.ExpectConnection(t, mark)
		assert.Contains(t, probes[0], "connect=reached")
		assert.Contains(t, probes[0], "bind=OSError")
		// It contains processes all the same: a detached (double-forked,
		// setsid) process is netgrade's to kill when its check ends.
		assert.Empty(t, left, "a detached process outlived its check in the process sandbox")
		assert.Contains(t, probes[0], "write=ok")
	})
}

// probeLines returns the PROBE lines the program printed, over all checks.
func probeLines(r report.Result) []string {
	var out []string
	for _, c := range r.Checks {
		for _, e := range c.Transcript {
			if e.Kind == report.EvStdout && strings.HasPrefix(e.Data, "PROBE ") {
				out = append(out, e.Data)
			}
		}
	}
	return out
}

func TestCancelLeavesNothing(t *testing.T) {
	eachSandbox(t, func(t *testing.T, kind string, sb sandbox.Sandbox) {
		t.Cleanup(func() { assert.NoError(t, sb.Close()) })
		mark := fmt.Sprintf("netgrade-cancel-%s-%d-%d", kind, os.Getpid(), time.Now().UnixNano())
		dir := t.TempDir()
		// A server that starts a child carrying the mark, then never
		// binds: the check waits for it until cancelled.
		src := fmt.Sprintf("import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', %q])\nprint('ready', flush=True)\ntime.sleep(300)\n", mark)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "udp-server.py"), []byte(src), 0o644))
		u := sandbox.Unit{Student: "stuck", Dir: dir, Files: []sandbox.File{{Exercise: "udp-server", Path: "udp-server.py"}},
			TimeoutMS: sandbox.UnitTimeout(course.Registry().Exercises(), nil).Milliseconds()}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var gerr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, gerr = sb.Grade(ctx, u)
		}()
		require.True(t, sandboxtest.WaitProcessWith(t, mark, time.Minute), "the submission's child started")
		cancel()
		wg.Wait()
		assert.ErrorIs(t, gerr, context.Canceled)
		// Stopping is asynchronous for a container: give the engine its
		// deadline, watching for the processes to go.
		assert.True(t, sandboxtest.WaitNoProcessWith(t, mark, 30*time.Second), "no process is left after a cancelled grading")
		if d, ok := sb.(*sandboxtest.DockerBox); ok {
			sandboxtest.AssertNoContainers(t, d.RunID)
		}
	})
}

func TestNetnsProcIsOwn(t *testing.T) {
	sb := sandboxtest.Netns(t, netgradeBin)
	if sb == nil {
		return
	}
	// A udp-client that reports what /proc it sees: only its namespace's
	// processes (the unit runner, its init and itself).
	dir := t.TempDir()
	src := `import os, socket, sys
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
print("PIDS", len(pids), min(pids), os.getpid() < 1000, flush=True)
host, port, msg = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(msg.encode("utf-8"), (host, port))
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "udp-client.py"), []byte(src), 0o644))
	u := sandbox.Unit{Student: "proc", Dir: dir, Files: []sandbox.File{{Exercise: "udp-client", Path: "udp-client.py"}},
		TimeoutMS: time.Minute.Milliseconds()}
	res, err := sb.Grade(context.Background(), u)
	require.NoError(t, err)
	var seen bool
	for _, c := range res[0].Checks {
		for _, e := range c.Transcript {
			if f := strings.Fields(e.Data); e.Kind == report.EvStdout && len(f) == 4 && f[0] == "PIDS" {
				seen = true
				assert.Equal(t, "1", f[2], "PID 1 of the namespace is visible: /proc is the namespace's own")
				assert.Equal(t, "True", f[3])
				assert.LessOrEqual(t, sandboxtest.Atoi(t, f[1]), 12, "only the namespace's few processes (its init, the unit runner, the programs of up to graders.DefaultParallel checks): %s", e.Data)
			}
		}
	}
	assert.True(t, seen, "the program printed what it saw in /proc")
}

func TestNetnsUnavailableSaysWhy(t *testing.T) {
	// A unit runner that is not netgrade cannot set the namespace up: the
	// probe must fail with a message, not hang or pass.
	err := sandbox.NetnsAvailable(context.Background(), "/bin/true")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "namespaces")
}

func TestDockerRefusesDynamicBinary(t *testing.T) {
	_, err := sandbox.NewDocker(context.Background(), sandbox.DockerConfig{Binary: "/bin/sh"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CGO_ENABLED=0")
}
