package batch

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/netgrade/netgrade/internal/report"
	"gotest.tools/v3/assert"
)

func TestSaveCapturesLinksFromTheStudentsPage(t *testing.T) {
	out := t.TempDir()
	rec := &Record{Student: "alice", Results: []report.Result{{Exercise: "udp-server", Checks: []report.Check{
		{ID: "udp-server/log-format", Pcapng: []byte("frames")},
		{ID: "udp-server/usage"},
	}}}}
	assert.NilError(t, saveCaptures(rec, Options{Out: out, Captures: filepath.Join(out, "captures")}))
	c := rec.Results[0].Checks[0]
	assert.Equal(t, c.Capture, "../captures/alice/udp-server-log-format.pcapng")
	assert.Assert(t, c.Pcapng == nil)
	data, err := os.ReadFile(filepath.Join(out, studentsDir, filepath.FromSlash(c.Capture)))
	assert.NilError(t, err)
	assert.Equal(t, string(data), "frames")
	assert.Equal(t, rec.Results[0].Checks[1].Capture, "", "no frames, no file")

	// Without --capture, bytes a sandbox handed back are dropped.
	rec.Results[0].Checks[1].Pcapng = []byte("x")
	assert.NilError(t, saveCaptures(rec, Options{Out: out}))
	assert.Assert(t, rec.Results[0].Checks[1].Pcapng == nil)
}
