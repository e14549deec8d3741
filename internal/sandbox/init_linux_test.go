package sandbox

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/proctree"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// TestReapZombiesTakesOnlyOrphans has an orphan and a program of its own
// both ended and unreaped: reapZombies reaps the orphan and leaves the
// program to os/exec, whose Wait still gets its exit status.
func TestReapZombiesTakesOnlyOrphans(t *testing.T) {
	if !pidfdsUsed() {
		t.Skip("os/exec does not use pidfds here: PID 1 runs the pair runner as a child instead")
	}
	// Orphans come to this process, as they come to PID 1 of a namespace.
	assert.NilError(t, unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
	self := os.Getpid()
	out, err := exec.Command("sh", "-c", "sleep 0.1 >/dev/null 2>&1 & echo $!").Output()
	assert.NilError(t, err)
	orphan, err := strconv.Atoi(strings.TrimSpace(string(out)))
	assert.NilError(t, err)
	own := exec.Command("sh", "-c", "exit 7")
	assert.NilError(t, own.Start())

	state := func(pid int) string {
		p, err := proctree.New("").Stat(pid)
		if err != nil {
			return "gone"
		}
		if p.PPID != self {
			return "not a child"
		}
		return p.State
	}
	ended := func(poll.LogT) poll.Result {
		if o, w := state(orphan), state(own.Process.Pid); o != "Z" || w != "Z" {
			return poll.Continue("orphan %s, own program %s", o, w)
		}
		return poll.Success()
	}
	poll.WaitOn(t, ended, poll.WithTimeout(10*time.Second), poll.WithDelay(20*time.Millisecond))

	reapZombies(self)
	assert.Equal(t, state(orphan), "gone", "the orphan is reaped")
	assert.Equal(t, state(own.Process.Pid), "Z", "the program os/exec waits for is left to it")
	err = own.Wait()
	var ee *exec.ExitError
	assert.Assert(t, errors.As(err, &ee), "os/exec still gets the program's exit: %v", err)
	assert.Equal(t, ee.ExitCode(), 7)
}
