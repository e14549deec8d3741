// Package sandboxtest holds what the tests of the sandboxes and of batch
// grading share: a static netgrade build, sandboxes that skip (or fail under
// NETGRADE_REQUIRE_*=1) when the machine lacks them, a listener on the
// host's loopback, and a look at the host's processes and containers.
package sandboxtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/poll"
	"github.com/netgrade/netgrade/internal/sandbox"
	dc "github.com/ory/dockertest/v3/docker"
	"github.com/prometheus/procfs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// BuildStatic builds netgrade with CGO_ENABLED=0 into dir and returns the
// binary's path: the unit runner the netns and docker sandboxes run.
func BuildStatic(dir string) (string, error) {
	bin := filepath.Join(dir, "netgrade")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/netgrade/netgrade/cmd/netgrade")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building netgrade for the tests: %w\n%s", err, out)
	}
	return bin, nil
}

// Main is the TestMain of a package whose tests run netgrade in a sandbox:
// it unsets PYTHONUNBUFFERED (a student's machine does not set it), builds
// a static netgrade into a temporary folder, stores its path in *bin, runs
// the tests and exits with their status.
func Main(m *testing.M, bin *string) {
	os.Unsetenv("PYTHONUNBUFFERED")
	dir, err := os.MkdirTemp("", "netgrade-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*bin, err = BuildStatic(dir)
	if err != nil {
		os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Require skips the test with a loud reason when thing is missing, or
// fails it when NETGRADE_REQUIRE_<THING>=1 says the machine must have it.
func Require(t testing.TB, thing string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	env := "NETGRADE_REQUIRE_" + strings.ToUpper(thing)
	if os.Getenv(env) == "1" {
		t.Fatalf("%s is required here (%s=1) but unavailable: %v", thing, env, err)
	}
	t.Skipf("SKIPPED: %s is unavailable on this machine (%v); set %s=1 to make this a failure", thing, err, env)
}

// Netns returns the netns sandbox, or skips (fails when required) when
// namespaces are unavailable.
func Netns(t testing.TB, bin string) sandbox.Sandbox {
	t.Helper()
	Require(t, "netns", sandbox.NetnsAvailable(context.Background(), bin))
	return sandbox.NewNetns(bin, "")
}

// Each runs f in a subtest per sandbox kind (process, netns, docker), the
// sandbox made inside its own subtest: a kind this machine lacks skips (or
// fails, when required) its subtest only, never the others'. process makes
// the process sandbox.
func Each(t *testing.T, bin string, process func() sandbox.Sandbox, f func(t *testing.T, kind string, sb sandbox.Sandbox)) {
	t.Helper()
	for _, kind := range []string{sandbox.Process, sandbox.Netns, sandbox.Docker} {
		t.Run(kind, func(t *testing.T) {
			var sb sandbox.Sandbox
			switch kind {
			case sandbox.Process:
				sb = process()
			case sandbox.Netns:
				sb = Netns(t, bin)
			case sandbox.Docker:
				sb = Docker(t, bin)
			}
			f(t, kind, sb)
		})
	}
}

// Image returns the image the docker tests use: NETGRADE_SANDBOX_IMAGE, or
// the one `make sandbox-image` builds.
func Image() string {
	if img := os.Getenv("NETGRADE_SANDBOX_IMAGE"); img != "" {
		return img
	}
	return sandbox.LocalImage
}

// DockerBox is a docker sandbox of a test, with the label of its run.
type DockerBox struct {
	sandbox.Sandbox
	RunID string
}

// Docker returns a docker sandbox on Image(), or skips (fails when
// NETGRADE_REQUIRE_DOCKER=1) when Docker or the image is unavailable.
func Docker(t testing.TB, bin string) *DockerBox {
	t.Helper()
	run := fmt.Sprintf("test-%d-%d", os.Getpid(), time.Now().UnixNano())
	sb, err := sandbox.NewDocker(context.Background(), sandbox.DockerConfig{Image: Image(), Binary: bin, RunID: run})
	Require(t, "docker", err)
	return &DockerBox{Sandbox: sb, RunID: run}
}

// Containers lists the containers of a run, running or not.
func Containers(t testing.TB, run string) []string {
	t.Helper()
	return ContainersLabelled(t, sandbox.LabelRun+"="+run)
}

// ContainersLabelled lists the containers with a label (KEY=VALUE),
// running or not.
func ContainersLabelled(t testing.TB, label string) []string {
	t.Helper()
	c, err := dc.NewClientFromEnv()
	require.NoError(t, err)
	list, err := c.ListContainers(dc.ListContainersOptions{All: true, Filters: map[string][]string{"label": {label}}})
	require.NoError(t, err)
	var ids []string
	for _, ct := range list {
		ids = append(ids, ct.ID[:12]+" "+ct.State)
	}
	return ids
}

// AssertNoContainers checks that no container of the run is left; the
// engine removes auto-removed containers asynchronously, so it waits for
// that with a deadline.
func AssertNoContainers(t testing.TB, run string) {
	t.Helper()
	AssertNoContainersLabelled(t, sandbox.LabelRun+"="+run)
}

// AssertNoContainersLabelled checks that no container with the label
// (KEY=VALUE) is left, waiting with a deadline as AssertNoContainers does.
func AssertNoContainersLabelled(t testing.TB, label string) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Empty(c, ContainersLabelled(t, label), "containers left")
	}, 30*time.Second, 100*time.Millisecond)
}

// Listener is a TCP listener on the host's loopback that records what
// connects to it.
type Listener struct {
	Port int
	mu   sync.Mutex
	got  []string
	seen chan struct{}
}

// ListenLoopback listens on 127.0.0.1 (a free port) until the test ends.
func ListenLoopback(t testing.TB) *Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	l := &Listener{Port: ln.Addr().(*net.TCPAddr).Port, seen: make(chan struct{}, 1000)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 256)
				n, _ := c.Read(buf)
				l.mu.Lock()
				l.got = append(l.got, string(buf[:n]))
				l.mu.Unlock()
				l.seen <- struct{}{}
			}()
		}
	}()
	return l
}

// ExpectNone checks that nothing connected, waiting window for a
// connection still queued.
func (l *Listener) ExpectNone(t testing.TB, window time.Duration) {
	t.Helper()
	select {
	case <-l.seen:
		l.mu.Lock()
		defer l.mu.Unlock()
		t.Errorf("a sandboxed submission reached the host's loopback: %q", l.got)
	case <-time.After(window):
	}
}

// ExpectConnection waits for a connection that sent want.
func (l *Listener) ExpectConnection(t testing.TB, want string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		l.mu.Lock()
		for _, g := range l.got {
			if g == want {
				l.mu.Unlock()
				return
			}
		}
		l.mu.Unlock()
		select {
		case <-l.seen:
		case <-deadline:
			t.Errorf("nothing connected to the host's port with %q", want)
			return
		}
	}
}

// ProcessesWith returns the PIDs of the host's processes whose command line
// holds mark.
func ProcessesWith(mark string) []int {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return nil
	}
	all, err := fs.AllProcs()
	if err != nil {
		return nil
	}
	var out []int
	for _, p := range all {
		cmd, err := p.CmdLine()
		if err != nil {
			continue
		}
		if st, err := p.Stat(); err == nil && st.State == "Z" {
			continue
		}
		if strings.Contains(strings.Join(cmd, " "), mark) {
			out = append(out, p.PID)
		}
	}
	return out
}

// WaitProcessWith waits until a process with mark in its command line runs,
// looking with internal/poll's backoff; a wait that times out logs what it
// saw last.
func WaitProcessWith(t testing.TB, mark string, timeout time.Duration) bool {
	t.Helper()
	return waitProcesses(t, timeout, func() poll.Result {
		if len(ProcessesWith(mark)) > 0 {
			return poll.Done()
		}
		return poll.Continue("no process with %q in its command line", mark)
	})
}

// WaitNoProcessWith waits until no process has mark in its command line;
// when it times out, it kills the processes left and logs them.
func WaitNoProcessWith(t testing.TB, mark string, timeout time.Duration) bool {
	t.Helper()
	if waitProcesses(t, timeout, func() poll.Result {
		if left := ProcessesWith(mark); len(left) > 0 {
			return poll.Continue("processes %v have %q in their command line", left, mark)
		}
		return poll.Done()
	}) {
		return true
	}
	Kill(ProcessesWith(mark))
	return false
}

// waitProcesses waits until look is done, for at most timeout.
func waitProcesses(t testing.TB, timeout time.Duration, look func() poll.Result) bool {
	t.Helper()
	// Not t.Context(): a cleanup may call it after the test has ended.
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := poll.Wait(ctx, func(context.Context) poll.Result { return look() }); err != nil {
		t.Logf("waiting for the host's processes: %v", err)
		return false
	}
	return true
}

// Kill kills the processes.
func Kill(pids []int) {
	for _, p := range pids {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
}

// Atoi is strconv.Atoi for tests.
func Atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	assert.NoError(t, err)
	return n
}
