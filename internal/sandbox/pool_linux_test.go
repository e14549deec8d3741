package sandbox_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/interop"
	"github.com/netgrade/netgrade/internal/sandbox"
	"github.com/netgrade/netgrade/internal/sandbox/sandboxtest"
	"github.com/netgrade/netgrade/internal/sandbox/sandboxtest/hostile"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// udpServePy is the end of every udp-server of the pool's tests: it
// serves as the course asks, logging each datagram.
const udpServePy = `
from datetime import datetime
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("", int(sys.argv[1])))
while True:
    data, addr = sock.recvfrom(4096)
    now = datetime.now()
    stamp = now.strftime("%Y-%m-%d %H:%M:%S") + f",{now.microsecond // 1000:03d}"
    print(f'[{stamp}] client {addr[0]} sent "{data.decode()}"', flush=True)
`

// leaveTracesPy is a udp-server that leaves what the next cell of its
// runner must not find: a file in the scratch folder, a TCP port in
// TIME_WAIT (which a mere kill of the processes would leave bound), and a
// setsid daemon that listens on another port, without netgrade's mark.
const leaveTracesPy = `import errno, os, socket, sys, time
tmp = os.environ.get("TMPDIR", "/tmp")
with open(os.path.join(tmp, "cell1-was-here"), "w") as f:
    f.write("x")
ln = socket.socket()
ln.bind(("127.0.0.1", 47001))
ln.listen()
c = socket.create_connection(("127.0.0.1", 47001))
a, _ = ln.accept()
a.close()
time.sleep(0.1)
c.close()
ln.close()
time.sleep(0.1)
s = socket.socket()
try:
    s.bind(("127.0.0.1", 47001))
    print("same-cell bind: ok", flush=True)
except OSError as e:
    print("same-cell bind: " + errno.errorcode[e.errno], flush=True)
s.close()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        # Without netgrade's mark in its environment, the harness cannot
        # tell the daemon is the program's.
        code = "import socket, time\nd = socket.socket()\nd.bind(('127.0.0.1', 47002))\nd.listen()\nwhile True: time.sleep(1)\n"
        os.execve(sys.executable, [sys.executable, "-c", code], {})
    os._exit(0)
time.sleep(0.2)
print("left traces", flush=True)
` + udpServePy

// probePy is a udp-server that first reports what it finds of earlier
// cells, its capabilities, and whether it can reach PID 1's memory or
// ptrace it.
const probePy = `import ctypes, errno, os, socket, sys
def report(k, v):
    print(f"{k}: {v}", flush=True)
tmp = os.environ.get("TMPDIR", "/tmp")
left = [n for n in ("cell1-was-here", "` + hostile.DaemonLog + `") if os.path.exists(os.path.join(tmp, n))]
report("files", ",".join(left) or "none")
s = socket.socket()
try:
    s.bind(("127.0.0.1", 47001))
    report("bind", "ok")
except OSError as e:
    report("bind", errno.errorcode[e.errno])
s.close()
try:
    socket.create_connection(("127.0.0.1", 47002), timeout=2).close()
    report("connect", "connected")
except OSError as e:
    report("connect", errno.errorcode.get(e.errno, str(e)))
others = []
for d in os.listdir("/proc"):
    if d.isdigit() and int(d) not in (1, os.getpid()):
        try:
            with open(f"/proc/{d}/cmdline") as f:
                others.append(d + ":" + f.read().replace("\0", " ").strip())
        except OSError:
            pass
report("others", ";".join(sorted(others)) or "none")
with open("/proc/self/status") as f:
    st = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
for k in ("CapEff", "CapPrm", "CapInh", "CapAmb"):
    report(k, st[k].strip())
try:
    open("/proc/1/mem", "rb").close()
    report("mem", "opened")
except OSError as e:
    report("mem", errno.errorcode[e.errno])
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
if libc.ptrace(16, 1, None, None) == 0:
    report("ptrace", "attached")
else:
    report("ptrace", errno.errorcode[ctypes.get_errno()])
` + udpServePy

// signalsPy is a udp-server that sends PID 1 (the runner) every signal
// that would end a Go program, and those the kernel drops for PID 1.
const signalsPy = `import os, signal, socket, sys, time
for s in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGABRT", "SIGSEGV",
          "SIGPIPE", "SIGALRM", "SIGTRAP", "SIGSYS", "SIGSTOP", "SIGKILL"):
    os.kill(1, getattr(signal, s))
time.sleep(0.3)
print("signals: sent", flush=True)
` + udpServePy

// tamperPy is a udp-server that changes PID 1 (the runner) as a process
// of its uid may without capabilities, in the way HOW names: the runner
// serves no more cells after this one.
const tamperPy = `import os, resource, socket, sys
try:
    how = "HOW"
    if how == "nice":
        os.setpriority(os.PRIO_PROCESS, 1, 5)
    elif how == "nofile":
        resource.prlimit(1, resource.RLIMIT_NOFILE, (64, 64))
    elif how == "oom":
        with open("/proc/1/oom_score_adj", "w") as f:
            f.write("500")
    elif how == "cpus":
        os.sched_setaffinity(1, {min(os.sched_getaffinity(0))})
    print("tamper: done", flush=True)
except OSError as e:
    print(f"tamper: {e}", flush=True)
` + udpServePy

// sleeperPy never binds: its cell outlives its time bound.
const sleeperPy = `import time
time.sleep(600)
`

// poolCell runs one udp cell of the reference client against the server
// file in dir on sb, with the pair's time bound timeout (0: a cell's).
func poolCell(ctx context.Context, sb sandbox.Sandbox, dir, file string, timeout time.Duration) (interop.Outcome, error) {
	req := interop.Request{Client: "udp-client", Server: "udp-server", Proto: "udp", Message: interop.Message,
		LogLine:    `[{asctime}] client {ip} sent "{message}"`,
		ClientSide: interop.Side{Student: "ref", Ref: true},
		ServerSide: interop.Side{Student: "s", Program: 0}}
	if timeout == 0 {
		timeout = interop.Timeout(1)
	}
	pair := sandbox.Pair{Name: file, TimeoutMS: timeout.Milliseconds(),
		Programs: []sandbox.PairProgram{{Student: "s", Dir: dir, Path: file}}}
	var err error
	if pair.Request, err = json.Marshal(req); err != nil {
		return interop.Outcome{}, err
	}
	raw, err := sandbox.RunPair(ctx, sb, pair, nil)
	if err != nil {
		return interop.Outcome{}, err
	}
	var out interop.Outcome
	err = json.Unmarshal(raw, &out)
	return out, err
}

// serverSaid returns what the server printed under key ("key: value").
func serverSaid(out interop.Outcome, key string) string {
	for _, l := range out.ServerLog {
		if _, v, ok := strings.Cut(l, ": "+key+": "); ok {
			return v
		}
	}
	return "(not printed)"
}

// TestNetnsPoolCellsApart runs cells one after another on the netns
// sandbox's pool, which has one runner for them (one caller at a time):
// nothing a cell leaves (a setsid daemon, a port bound or in TIME_WAIT, a
// file in the scratch folder) is found by the next; a program has no
// capability and can neither open /proc/1/mem nor ptrace PID 1; signals
// sent to PID 1 change nothing; a cell that outlives its time bound costs
// its runner, and the next cell runs on a fresh one as it would have.
func TestNetnsPoolCellsApart(t *testing.T) {
	sb := sandboxtest.Netns(t, netgradeBin)
	defer sb.Close()
	dir := t.TempDir()
	daemon, err := hostile.Get("setsid-daemon")
	assert.NilError(t, err)
	_, err = daemon.Write(dir, "daemon.py", 0)
	assert.NilError(t, err)
	files := map[string]string{"leave.py": leaveTracesPy, "probe.py": probePy, "signals.py": signalsPy, "sleeper.py": sleeperPy}
	for _, how := range []string{"nice", "nofile", "oom", "cpus"} {
		files["tamper_"+how+".py"] = strings.Replace(tamperPy, "HOW", how, 1)
	}
	for name, src := range files {
		assert.NilError(t, os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644))
	}
	clean := map[string]string{"files": "none", "bind": "ok", "connect": "ECONNREFUSED", "others": "none",
		"CapEff": "0000000000000000", "CapPrm": "0000000000000000", "CapInh": "0000000000000000", "CapAmb": "0000000000000000",
		// mm_access refuses /proc/1/mem with EACCES, ptrace with EPERM.
		"mem": "EACCES", "ptrace": "EPERM"}
	steps := []struct {
		name    string
		file    string
		timeout time.Duration
		wantErr string
		// verdict is the cell's colour; said, what the server printed.
		verdict interop.Verdict
		said    map[string]string
		// fresh: the cell runs on a runner started for it.
		fresh bool
		// tamper: the program changes the runner (tamperPy); where the
		// kernel lets it, the runner retires and the next cell runs on
		// a fresh one.
		tamper bool
	}{
		{name: "a first cell on a fresh runner", file: "probe.py", verdict: interop.Green, said: clean, fresh: true},
		{name: "a cell leaves a file, a port in TIME_WAIT and a daemon", file: "leave.py", verdict: interop.Green,
			said: map[string]string{"same-cell bind": "EADDRINUSE"}},
		{name: "the next cell on the same runner finds none of them", file: "probe.py", verdict: interop.Green, said: clean},
		{name: "the hostile corpus's setsid daemon", file: "daemon.py", verdict: interop.Green},
		{name: "its daemon and log are gone in the next cell", file: "probe.py", verdict: interop.Green, said: clean},
		{name: "a cell that signals PID 1 runs as any", file: "signals.py", verdict: interop.Green,
			said: map[string]string{"signals": "sent"}},
		{name: "the runner serves on after those signals", file: "probe.py", verdict: interop.Green, said: clean},
		{name: "a cell that outlives its time bound errs", file: "sleeper.py", timeout: 3 * time.Second,
			wantErr: "context deadline exceeded"},
		{name: "the next cell runs on a fresh runner", file: "probe.py", verdict: interop.Green, said: clean, fresh: true},
		// A program that changes the runner's limits or OOM score gets its
		// verdict, and its runner retires; the kernel refuses it the
		// runner's scheduling (cap_safe_nice), which is checked all the
		// same.
		{name: "a cell that renices PID 1", file: "tamper_nice.py", verdict: interop.Green, tamper: true},
		{name: "a cell that lowers PID 1's limits", file: "tamper_nofile.py", verdict: interop.Green, tamper: true},
		{name: "a cell that raises PID 1's OOM score", file: "tamper_oom.py", verdict: interop.Green, tamper: true},
		{name: "a cell that pins PID 1 to a CPU", file: "tamper_cpus.py", verdict: interop.Green, tamper: true},
		{name: "the cell after them runs as any", file: "probe.py", verdict: interop.Green, said: clean},
	}
	want, retired := 0, false
	for _, s := range steps {
		if s.fresh || retired {
			want++
		}
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		out, err := poolCell(ctx, sb, dir, s.file, s.timeout)
		cancel()
		if s.wantErr != "" {
			assert.ErrorContains(t, err, s.wantErr, s.name)
		} else {
			assert.NilError(t, err, s.name)
			assert.Equal(t, out.Verdict, s.verdict, "%s: %s\nserver: %s", s.name, out.Reason, strings.Join(out.ServerLog, "\n"))
			for k, v := range s.said {
				assert.Check(t, is.Equal(serverSaid(out, k), v), "%s: %s", s.name, k)
			}
		}
		retired = s.tamper && serverSaid(out, "tamper") == "done"
		if s.tamper {
			t.Logf("%s: %s", s.name, serverSaid(out, "tamper"))
		}
		starts, off := sandbox.PoolStarts(sb)
		assert.Equal(t, off, "", s.name)
		assert.Check(t, is.Equal(starts, want), s.name)
	}
	assert.NilError(t, sb.Close())
	assert.Assert(t, sandboxtest.WaitNoProcessWith(t, netgradeBin+" unit --init --setup --pair --serve", 10*time.Second),
		"Close leaves no pair runner")
}

// TestNetnsPoolFallsBackWithCgo runs cells with a netgrade linked with
// cgo, which has no syscall.AllThreadsSyscall: its first runner says it
// cannot serve many pairs, and every cell runs in a runner of its own, as
// before the pool.
func TestNetnsPoolFallsBackWithCgo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds netgrade with cgo")
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no C compiler: netgrade cannot be built with cgo here")
	}
	sandboxtest.Netns(t, netgradeBin) // skips where namespaces are missing
	bin := filepath.Join(t.TempDir(), "netgrade-cgo")
	build := exec.Command("go", "build", "-o", bin, "github.com/netgrade/netgrade/cmd/netgrade")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	out, err := build.CombinedOutput()
	assert.NilError(t, err, "%s", out)
	sb := sandbox.NewNetns(bin, "")
	defer sb.Close()
	dir := t.TempDir()
	// Not probePy: a runner of one pair is not hardened, and its ptrace
	// would stop PID 1 (its own cell only).
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "plain.py"), []byte("import socket, sys\n"+udpServePy), 0o644))
	for i := range 2 {
		got, err := poolCell(t.Context(), sb, dir, "plain.py", 0)
		assert.NilError(t, err, "cell %d", i)
		assert.Equal(t, got.Verdict, interop.Green, "cell %d: %s", i, got.Reason)
	}
	starts, off := sandbox.PoolStarts(sb)
	assert.Equal(t, starts, 0)
	assert.Assert(t, is.Contains(off, "cgo"))
}

// TestNetnsPoolHostileCorpus runs each program of the hostile corpus as a
// udp-server on the netns sandbox's pool, each followed by a probe cell on
// the same pool: every hostile cell gets a verdict (no error of
// netgrade's), and the probe after it finds nothing of it and no
// capability.
func TestNetnsPoolHostileCorpus(t *testing.T) {
	sb := sandboxtest.Netns(t, netgradeBin)
	defer sb.Close()
	all, err := hostile.All()
	assert.NilError(t, err)
	dir := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "probe.py"), []byte(probePy), 0o644))
	clean := map[string]string{"files": "none", "others": "none", "CapEff": "0000000000000000", "mem": "EACCES", "ptrace": "EPERM"}
	for _, p := range all {
		t.Run(p.Name, func(t *testing.T) {
			_, err := p.Write(dir, p.File, 0)
			assert.NilError(t, err)
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
			defer cancel()
			out, err := poolCell(ctx, sb, dir, p.File, 0)
			assert.NilError(t, err)
			assert.Assert(t, out.Verdict != "", "the hostile cell gets a verdict")
			probe, err := poolCell(ctx, sb, dir, "probe.py", 0)
			assert.NilError(t, err)
			assert.Equal(t, probe.Verdict, interop.Green, probe.Reason)
			for k, v := range clean {
				assert.Check(t, is.Equal(serverSaid(probe, k), v), "after %s: %s", p.Name, k)
			}
		})
	}
	starts, off := sandbox.PoolStarts(sb)
	assert.Equal(t, off, "")
	t.Logf("%d cells on %d runners", 2*len(all), starts)
}
