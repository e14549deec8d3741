package sandbox_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/capture"
	"github.com/netgrade/netgrade/internal/capture/capturetest"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/sandbox"
	"gotest.tools/v3/assert"
)

// TestCaptureInEverySandbox grades with captures in each sandbox: the
// unit runner captures the loopback where the programs run (the unit's
// own in netns and docker) and hands each check's capture back with its
// result; tshark finds the datagram of the transcript in it.
func TestCaptureInEverySandbox(t *testing.T) {
	capturetest.NeedTap(t) // the process sandbox captures in this process
	capturetest.NeedTshark(t)
	eachSandbox(t, func(t *testing.T, kind string, sb sandbox.Sandbox) {
		t.Cleanup(func() { assert.NilError(t, sb.Close()) })
		u, _ := fixtureUnit(t, "student", "udp-server/plain.py")
		u.Capture = true
		u.Course = sandbox.Course{"udp-server": {Settings: graders.Settings{Only: []string{"udp-server/log-format"}}}}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		res, err := sb.Grade(ctx, u)
		assert.NilError(t, err)
		assert.Equal(t, len(res), 1)
		assert.Equal(t, res[0].CaptureNote, "", "the %s sandbox captures", kind)
		c := res[0].Checks[0]
		assert.Equal(t, c.Status, report.Pass, c.Message)
		assert.Assert(t, len(c.Pcapng) > 0, "the check's capture comes back from the %s sandbox", kind)
		assert.Equal(t, c.Wire.Source, capture.FromCapture)
		file := filepath.Join(t.TempDir(), "c.pcapng")
		assert.NilError(t, os.WriteFile(file, c.Pcapng, 0o644))
		rows := capturetest.Tshark(t, file, "udp", []string{"udp.payload"})
		var payloads []string
		for _, r := range rows {
			payloads = append(payloads, r[0])
		}
		var sent []string
		for _, e := range c.Transcript {
			if e.Kind == report.EvSend {
				sent = append(sent, hexOf(e.Data))
			}
		}
		assert.DeepEqual(t, payloads, sent)
	})
}

func hexOf(s string) string {
	const digits = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(digits[s[i]>>4])
		b.WriteByte(digits[s[i]&15])
	}
	return b.String()
}
