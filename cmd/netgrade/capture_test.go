package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/internal/capture/capturetest"
	"github.com/netgrade/netgrade/internal/clitest"
	"github.com/netgrade/netgrade/internal/report"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// TestGradeCapture grades the reference UDP client with --capture: every
// check that exchanged a datagram links its capture, the file is there and
// tshark reads the datagram from it; the JSON carries no capture bytes.
func TestGradeCapture(t *testing.T) {
	capturetest.NeedTap(t)
	capturetest.NeedTshark(t)
	dir := t.TempDir()
	res := clitest.Run(bin, "grade", "udp-client", "--ref", "--check", "udp-client/sends-message,udp-client/exits",
		"--capture", filepath.Join(dir, "captures"), "--format", "json")
	res.Assert(t, clitest.Success)
	assert.Check(t, !strings.Contains(res.Stdout(), `"pcapng"`), "the bytes stay out of the report")
	var r report.Result
	assert.NilError(t, json.Unmarshal([]byte(res.Stdout()), &r))
	assert.Equal(t, len(r.Checks), 2)
	for _, c := range r.Checks {
		assert.Equal(t, c.Capture, filepath.ToSlash(filepath.Join(dir, "captures", strings.ReplaceAll(c.ID, "/", "-")+".pcapng")))
		_, err := os.Stat(c.Capture)
		assert.NilError(t, err)
		assert.Equal(t, c.Wire.Source, "capture")
		rows := capturetest.Tshark(t, c.Capture, "udp", []string{"frame.len"})
		assert.Assert(t, len(rows) > 0, "the datagram is in %s", c.Capture)
		assert.Check(t, is.Contains(c.Wire.Lines[0], "travelled in one "+rows[0][0]+"-byte frame"))
	}
}
