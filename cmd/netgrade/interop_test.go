package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/clitest"
	"github.com/netgrade/netgrade/internal/outlock"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// TestInteropCommand grades a class of two with batch, then runs its
// matrices: interop.html and interop.csv are written, summary.json has its
// section, the class report links to the matrix, and each student's page
// says how their programs fared; a second run reuses every cell.
func TestInteropCommand(t *testing.T) {
	subs, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	for student, files := range map[string][2]string{"ana": {"plain.py", "plain.py"}, "ben": {"latin1_encode.py", "bytes_message.py"}} {
		dir := filepath.Join(subs, student)
		assert.NilError(t, os.MkdirAll(dir, 0o755))
		assert.NilError(t, os.WriteFile(filepath.Join(dir, "udp-client.py"), fixture(t, "udp-client", files[0]), 0o644))
		assert.NilError(t, os.WriteFile(filepath.Join(dir, "udp-server.py"), fixture(t, "udp-server", files[1]), 0o644))
	}
	clitest.RunTimeout(5*time.Minute, bin, "interop", subs, "-o", out).Assert(t, clitest.Expected{ExitCode: exitUsage, Err: "holds no batch output: grade the class first"})
	clitest.RunTimeout(10*time.Minute, bin, "batch", subs, "-o", out, "--sandbox", "process", "--exercise", "udp-client,udp-server").Assert(t, clitest.Success)

	res := clitest.RunTimeout(10*time.Minute, bin, "interop", subs, "-o", out, "--sandbox", "process")
	res.Assert(t, clitest.Expected{Out: "udp-client × udp-server: 8 cells: 3 green, 5 amber, 0 red, 0 grey"})

	csv, err := os.ReadFile(filepath.Join(out, "interop.csv"))
	assert.NilError(t, err)
	assert.Equal(t, strings.Count(string(csv), "\n"), 9, "a header and a row per cell")
	var sum struct {
		Interop struct {
			Pairs []struct {
				Verdicts map[string]int `json:"verdicts"`
			} `json:"pairs"`
		} `json:"interop"`
	}
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	assert.NilError(t, err)
	assert.NilError(t, json.Unmarshal(data, &sum))
	assert.Equal(t, sum.Interop.Pairs[0].Verdicts["green"], 3)
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	assert.NilError(t, err)
	assert.Assert(t, is.Contains(string(page), `<a href="interop.html">`))
	ben, err := os.ReadFile(filepath.Join(out, "students", "ben.html"))
	assert.NilError(t, err)
	assert.Assert(t, is.Contains(string(ben), "your udp-client was understood by 0 of 1 classmates"))
	_, err = os.Stat(filepath.Join(out, "interop.html"))
	assert.NilError(t, err)

	again := clitest.RunTimeout(5*time.Minute, bin, "interop", subs, "-o", out, "--sandbox", "process")
	again.Assert(t, clitest.Expected{Out: "Ran 0 cells"})
}

// TestInteropRefusesABusyOut runs interop on an OUT whose lock another
// process holds (as a batch or another interop does while it writes): it
// writes nothing and names the other run.
func TestInteropRefusesABusyOut(t *testing.T) {
	subs, out := t.TempDir(), t.TempDir()
	assert.NilError(t, os.MkdirAll(filepath.Join(out, "students"), 0o755))
	unlock, err := outlock.Lock(out) // the netgrade binary below is another process
	assert.NilError(t, err)
	t.Cleanup(unlock)

	clitest.RunTimeout(time.Minute, bin, "interop", subs, "-o", out, "--sandbox", "process").Assert(t, clitest.Expected{
		ExitCode: exitInternal, Err: fmt.Sprintf("another netgrade (PID %d: ", os.Getpid())})
	_, err = os.Stat(filepath.Join(out, "interop"))
	assert.Assert(t, os.IsNotExist(err), "nothing written: %v", err)
}
