package outlock_test

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/netgrade/netgrade/internal/outlock"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// TestLock holds OUT's lock from another process: Lock refuses,
// naming that process; once it ends, Lock takes the lock, and a second
// run is refused until the first releases it.
func TestLock(t *testing.T) {
	out := t.TempDir()
	holder := exec.Command("python3", "-c", `import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.flock(f, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(120)`, filepath.Join(out, outlock.File))
	stdout, err := holder.StdoutPipe()
	assert.NilError(t, err)
	assert.NilError(t, holder.Start())
	t.Cleanup(func() { _ = holder.Process.Kill(); _ = holder.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	assert.NilError(t, err)
	assert.Equal(t, line, "locked\n")

	_, err = outlock.Lock(out)
	assert.Assert(t, is.ErrorContains(err, "another netgrade (PID "+strconv.Itoa(holder.Process.Pid)+": "))
	assert.Assert(t, is.ErrorContains(err, "import fcntl"), "the other run's command line")
	assert.Assert(t, is.ErrorContains(err, "is writing "+out+": wait for it to end, or use another -o folder"))

	assert.NilError(t, holder.Process.Kill())
	_ = holder.Wait()
	unlock, err := outlock.Lock(out)
	assert.NilError(t, err, "the lock is free once its holder ended")
	_, err = outlock.Lock(out)
	assert.Assert(t, is.ErrorContains(err, "is writing "+out), "a second run while the first holds it")
	unlock()
	unlock, err = outlock.Lock(out)
	assert.NilError(t, err, "the lock is free once released")
	unlock()
}
