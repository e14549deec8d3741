package observe

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunDelay: a program that competes for the CPUs with more busy
// processes than there are cores waits on the run queue, and RunDelay
// sees that wait grow; a sleeping one's does not.
func TestRunDelay(t *testing.T) {
	sleeper := exec.Command("sleep", "2")
	require.NoError(t, sleeper.Start())
	defer sleeper.Process.Kill()
	busy := exec.Command("sh", "-c", "while :; do :; done")
	require.NoError(t, busy.Start())
	defer busy.Process.Kill()
	// Competitors: more spinning processes than cores.
	var spin []*exec.Cmd
	for range runtime.NumCPU() + 1 {
		c := exec.Command("sh", "-c", "while :; do :; done")
		require.NoError(t, c.Start())
		spin = append(spin, c)
	}
	defer func() {
		for _, c := range spin {
			c.Process.Kill()
		}
	}()
	sb, err := ThreadRunDelays(sleeper.Process.Pid)
	require.NoError(t, err)
	bb, err := ThreadRunDelays(busy.Process.Pid)
	require.NoError(t, err)
	time.Sleep(500 * time.Millisecond) // the competition runs for a while
	sa, err := ThreadRunDelays(sleeper.Process.Pid)
	require.NoError(t, err)
	ba, err := ThreadRunDelays(busy.Process.Pid)
	require.NoError(t, err)
	assert.Less(t, sa.Grown(sb), 50*time.Millisecond, "a sleeping program does not wait for a CPU")
	assert.Greater(t, ba.Grown(bb), 50*time.Millisecond, "a program competing with more spinners than cores waits for a CPU")
	assert.Zero(t, bb.Grown(bb))
	own, err := ThreadRunDelays(os.Getpid())
	require.NoError(t, err)
	assert.NotEmpty(t, own, "every thread of a program is read")
}

// TestGrownCountsTheClientsThread: when a thread or process started for
// the client, only its wait counts, not the accept loop's (which wakes
// every half second and may wait for a CPU while the client's thread
// sleeps); when none started, the thread that waited most counts.
func TestGrownCountsTheClientsThread(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name          string
		before, after RunDelays
		want          time.Duration
	}{
		{"one thread serves its client", RunDelays{"1": 10 * ms}, RunDelays{"1": 250 * ms}, 240 * ms},
		{"a forked child serves the client; the accept loop waited", RunDelays{"1": 10 * ms}, RunDelays{"1": 250 * ms, "2": 5 * ms}, 5 * ms},
		{"a new thread serves the client and waited", RunDelays{"1": 0, "2": 0}, RunDelays{"1": 100 * ms, "2": 0, "3": 300 * ms}, 300 * ms},
		{"nothing changed", RunDelays{"1": 10 * ms}, RunDelays{"1": 10 * ms}, 0},
		{"a thread ended", RunDelays{"1": 10 * ms, "2": 40 * ms}, RunDelays{"1": 30 * ms}, 20 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.after.Grown(tt.before))
		})
	}
}
