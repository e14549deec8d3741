package cost_test

import (
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netgrade/netgrade/internal/cost"
)

// burn is a shell command that spends about 0.1 s of CPU in a child of
// the shell (the shell itself spends almost none).
const burn = `i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done`

// TestRunSplitsOwnAndPrograms: a parent that only waits spends nearly no
// CPU of its own; the child it waited for carries the cost.
func TestRunSplitsOwnAndPrograms(t *testing.T) {
	for _, tc := range []struct {
		name         string
		script       string
		ownBusy      bool
		programsBusy bool
	}{
		{name: "child burns", script: "sh -c '" + burn + "'", programsBusy: true},
		{name: "parent burns", script: burn, ownBusy: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := cost.Run(exec.Command("sh", "-c", tc.script))
			require.NoError(t, err)
			busy, idle := 30*time.Millisecond, 20*time.Millisecond
			if tc.ownBusy {
				assert.Greater(t, u.Own, busy, "%v", u)
				assert.Less(t, u.Programs, idle, "%v", u)
			}
			if tc.programsBusy {
				assert.Greater(t, u.Programs, busy, "%v", u)
				assert.Less(t, u.Own, idle, "%v", u)
			}
			assert.GreaterOrEqual(t, u.Wall, (u.Own+u.Programs)/2)
		})
	}
}

func TestRunExitStatus(t *testing.T) {
	_, err := cost.Run(exec.Command("sh", "-c", "exit 3"))
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 3, ee.ExitCode())
}

// TestMeter: a reaped child's CPU lands in Programs.
func TestMeter(t *testing.T) {
	m := cost.Start()
	require.NoError(t, exec.Command("sh", "-c", burn).Run())
	u := m.Stop()
	assert.Greater(t, u.Programs, 30*time.Millisecond, "%v", u)
	assert.Less(t, u.Own, u.Programs, "%v", u)
}

func TestUsage(t *testing.T) {
	u := cost.Usage{Wall: 2 * time.Second, Own: 50 * time.Millisecond, Programs: time.Second}
	assert.InDelta(t, 0.05, u.OwnRatio(), 1e-9)
	assert.Equal(t, "wall 2.00s, own CPU 0.05s, programs' CPU 1.00s (own/programs 5%)", u.String())
	assert.Zero(t, cost.Usage{Own: time.Second}.OwnRatio())
	assert.Equal(t, cost.Usage{Wall: 4 * time.Second, Own: 100 * time.Millisecond, Programs: 2 * time.Second}, u.Add(u))
}
