package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/clitest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBatchBadSubmissions grades six students, two of whom each miss an
// exercise, one of whom hands in an archive that is no zip and one an
// empty folder: the pass rates count only the work handed in, the batch
// names the two bad submissions at its end (and as they happen) and exits
// with status 4, and grades.csv marks the missing exercises.
func TestBatchBadSubmissions(t *testing.T) {
	src := func(exercise, name string) string {
		fs, err := fixtures.For(exercise)
		require.NoError(t, err)
		for _, f := range fs {
			if f.Name == name {
				return string(f.Source)
			}
		}
		t.Fatalf("no fixture %s/%s", exercise, name)
		return ""
	}
	subs := filepath.Join(t.TempDir(), "submissions")
	files := map[string]string{
		"alice/udp-server.py": src("udp-server", "plain.py"),
		"alice/udp-client.py": src("udp-client", "plain.py"),
		"bob/udp-server.py":   src("udp-server", "tuple_addr.py"), // fails udp-server/log-format
		"bob/udp-client.py":   src("udp-client", "plain.py"),
		"carol/udp-client.py": src("udp-client", "plain.py"), // no udp-server.py
		"dave/udp-server.py":  src("udp-server", "plain.py"), // no udp-client.py
		"erin.zip":            "this is not a zip archive",
	}
	for p, content := range files {
		full := filepath.Join(subs, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(content), 0o644))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(subs, "frank"), 0o755))

	out := filepath.Join(t.TempDir(), "out")
	res := netgrade(t, "batch", subs, "-o", out, "-j", "4", "--sandbox", "process", "--exercise", "udp-server,udp-client")
	res.Assert(t, clitest.Expected{ExitCode: 4, Out: "2 submissions could not be graded properly:\n  erin: bad archive: erin.zip cannot be read as a zip archive"})
	assert.Contains(t, res.Stdout(), "\n  frank: no exercise file in the submission (looked for udp-server.py or udp?server.py, udp-client.py or udp?client.py)\n")
	assert.Contains(t, res.Stderr(), "erin: NOT GRADED PROPERLY: bad archive", "named as it happens")
	assert.Contains(t, res.Stderr(), "frank: NOT GRADED PROPERLY: no exercise file")
	assert.Contains(t, res.Stderr(), "2 submissions could not be graded properly (listed above and in summary.json)")

	rows := readCSV(t, filepath.Join(out, "grades.csv"))
	require.Equal(t, []string{"student", "udp-server", "udp-client", "total", "not_graded"}, rows[0])
	cells := map[string][]string{}
	for _, r := range rows[1:] {
		cells[r[0]] = r[1:3]
	}
	assert.Equal(t, batch.NotHandedIn, cells["carol"][0])
	assert.Equal(t, batch.NotHandedIn, cells["dave"][1])
	assert.Equal(t, []string{batch.NotHandedIn, batch.NotHandedIn}, cells["frank"])
	assert.Equal(t, []string{batch.NotGradedCell, batch.NotGradedCell}, cells["erin"], "an archive handed in but unreadable is neither 0 nor missing")
	assert.NotEqual(t, batch.NotHandedIn, cells["alice"][0])

	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	require.NoError(t, err)
	var sum batch.Summary
	require.NoError(t, json.Unmarshal(data, &sum))
	require.Len(t, sum.Problems, 2)
	assert.Equal(t, "erin", sum.Problems[0].Student)
	assert.Equal(t, "frank", sum.Problems[1].Student)
	for _, c := range sum.Checks {
		assert.Equal(t, 3, c.HandedIn, "%s: three students handed each exercise in", c.ID)
		assert.Equal(t, 3, c.Pass+c.Fail+c.Skip+c.Error, "%s: only their work counts", c.ID)
		if c.ID == "udp-server/log-format" {
			assert.Equal(t, 1, c.Fail, "bob's tuple")
			assert.Equal(t, 0.6667, c.PassRate)
		}
	}
}
