package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/netgrade/netgrade/internal/report"
)

// namespaceFlags are the namespaces a unit gets: its own user (so that an
// unprivileged netgrade can create the others), network (its own loopback
// and nothing else), PID (its own /proc; everything dies with PID 1), mount
// (to mount that /proc), IPC and UTS.
const namespaceFlags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET | syscall.CLONE_NEWPID |
	syscall.CLONE_NEWNS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS

// killGrace is how long after the unit's own time bound netgrade waits
// before it kills the namespace itself.
const killGrace = 30 * time.Second

// netnsSandbox grades each unit in namespaces of its own.
type netnsSandbox struct {
	bin    string
	python string
	// pool holds the pair runners that serve many pairs (runPair).
	pool *pairPool
}

// NewNetns returns the netns sandbox. bin is the netgrade binary run as the
// unit runner; python, when set, is the interpreter that runs .py files
// (resolved once by the caller, as the namespace sees the same files).
// Close ends the pair runners it keeps between pairs.
func NewNetns(bin, python string) Sandbox {
	n := &netnsSandbox{bin: bin, python: python}
	n.pool = newPairPool(func(ctx, life context.Context) (*pooledRunner, error) {
		cmd := n.command(life, pairFlag, serveFlag)
		cmd.Env = pairEnv(os.Environ())
		return startPooled(ctx, cmd)
	})
	return n
}

func (n *netnsSandbox) Name() string   { return Netns }
func (n *netnsSandbox) Isolated() bool { return true }

// Close ends every pair runner the sandbox keeps, so that nothing of it is
// left running.
func (n *netnsSandbox) Close() error {
	if n.pool != nil {
		n.pool.close()
	}
	return nil
}

// command returns the unit runner's command, to be started in new
// namespaces; it is PID 1 there and sets them up before grading.
func (n *netnsSandbox) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, n.bin, append([]string{"unit", "--init", "--setup"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 namespaceFlags,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		GidMappingsEnableSetgroups: false,
		// Its own process group: a Ctrl-C on the terminal reaches netgrade,
		// which then ends the unit, not the unit directly.
		Setpgid: true,
		// If netgrade dies, the namespace dies with it.
		Pdeathsig: syscall.SIGKILL,
	}
	// Killing PID 1 of a PID namespace kills every process in it.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func (n *netnsSandbox) Grade(ctx context.Context, u Unit) ([]report.Result, error) {
	u.Sandbox = Netns
	if u.Python == "" {
		u.Python = n.python
	}
	req, err := json.Marshal(u)
	if err != nil {
		return nil, fmt.Errorf("encoding the unit: %w", err)
	}
	if u.Timeout() > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, u.Timeout()+killGrace)
		defer cancel()
	}
	cmd := n.command(ctx)
	cmd.Stdin = bytes.NewReader(req)
	stderr := &tailBuffer{max: 8 << 10}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("netns sandbox: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("netns sandbox: starting the unit runner in new namespaces: %w", err)
	}
	results, rerr := readStream(stdout, len(u.Files))
	// Drain what is left so that the runner never blocks on a full pipe.
	_, _ = io.Copy(io.Discard, stdout)
	werr := cmd.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if rerr != nil {
		return nil, unitError(rerr, werr, stderr.String())
	}
	return results, nil
}

// unitError explains why a unit runner's stream ended badly.
func unitError(streamErr, waitErr error, stderr string) error {
	msg := streamErr.Error()
	if errors.Is(streamErr, errIncomplete) && waitErr != nil {
		msg += " (" + waitErr.Error() + ")"
	}
	if s := strings.TrimSpace(stderr); s != "" {
		msg += "; it printed: " + s
	}
	return errors.New(msg)
}

// NetnsAvailable reports whether units can be graded in namespaces of their
// own here: it starts the unit runner bin in them and waits for it to say
// that it set them up (PID 1, a fresh /proc, loopback up). The error says
// why not.
func NetnsAvailable(ctx context.Context, bin string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	n := &netnsSandbox{bin: bin}
	cmd := n.command(ctx, "--probe")
	stderr := &tailBuffer{max: 4 << 10}
	cmd.Stderr = stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
		}
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSPC) {
			return fmt.Errorf("this system does not let netgrade create user and network namespaces (%w); on Debian and Ubuntu, unprivileged user namespaces are enabled with sysctl kernel.unprivileged_userns_clone=1 (and, on Ubuntu 24.04, kernel.apparmor_restrict_unprivileged_userns=0)", err)
		}
		return fmt.Errorf("the unit runner could not set up its namespaces: %w", err)
	}
	if _, err := readStream(bytes.NewReader(out), 0); err != nil {
		return fmt.Errorf("the unit runner could not set up its namespaces: %w", err)
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

// reset forgets what was written.
func (t *tailBuffer) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = t.buf[:0]
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
