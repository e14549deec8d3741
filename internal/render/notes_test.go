package render

import (
	"bytes"
	"testing"

	"github.com/netgrade/netgrade/internal/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHTMLNotes: the student's page names the files handed in and not
// graded, as text: a file name is data, never markup.
func TestHTMLNotes(t *testing.T) {
	res := report.Result{Schema: report.Schema, Exercise: "udp-server", Submission: "udp-server.py", MaxScore: 1,
		Checks: []report.Check{{ID: "udp-server/starts", Status: report.Pass, Points: 1, MaxPoints: 1}}}
	var buf bytes.Buffer
	require.NoError(t, HTMLNotes(&buf, []report.Result{res}, []string{"handed in, not graded: python/socket_server.py, <b>x</b>.py"}))
	page := buf.String()
	assert.Contains(t, page, `<p class="note">handed in, not graded: python/socket_server.py, &lt;b&gt;x&lt;/b&gt;.py</p>`)

	buf.Reset()
	require.NoError(t, HTML(&buf, []report.Result{res}))
	assert.NotContains(t, buf.String(), `<p class="note">`, "no notes, no line")
}
