package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/internal/report"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// wireResult is a udp-client result whose failing check has a capture and
// answers counted in it, and a transcript of one datagram; hostile is
// put in the answers and the datagram.
func wireResult(hostile string) report.Result {
	return report.Result{Schema: 1, Exercise: "udp-client", Submission: "client.py", Score: 0, MaxScore: 2,
		CaptureNote: "",
		Checks: []report.Check{{
			ID: "udp-client/sends-message", Title: "sends the message", Category: report.Protocol, Status: report.Fail, MaxPoints: 2,
			Message: "wrong message", Capture: "captures/udp-client-sends-message.pcapng",
			Wire: &report.Wire{Source: "capture", Lines: []string{
				`your program's 5-byte message ("hello` + hostile + `") travelled in one 47-byte frame: 14 Ethernet + 20 IPv4 + 8 UDP + 5 bytes of data`,
				"Wireshark shows the text in clear: anyone on the path can read it",
			}},
			Transcript: []report.Event{
				{TimeMS: 1, Kind: report.EvStart, Data: "python3 client.py"},
				{TimeMS: 12.5, Kind: report.EvRecv, Proto: "udp", From: "127.0.0.1:40000", To: "127.0.0.1:5000", Data: "hello" + hostile, Bytes: 5},
				{TimeMS: 14, Kind: report.EvExit, Data: "exited with status 0"},
			},
		}},
	}
}

func TestWireInEveryFormat(t *testing.T) {
	rs := []report.Result{wireResult("")}
	var text bytes.Buffer
	assert.NilError(t, Text(&text, rs, TextOptions{}))
	assert.Check(t, is.Contains(text.String(), "    capture:     captures/udp-client-sends-message.pcapng (Wireshark opens it)\n"))
	assert.Check(t, is.Contains(text.String(), `on the wire: your program's 5-byte message ("hello") travelled in one 47-byte frame: 14 Ethernet + 20 IPv4 + 8 UDP + 5 bytes of data; Wireshark shows the text in clear: anyone on the path can read it (udp-client/sends-message, counted in its capture)`))

	var md bytes.Buffer
	assert.NilError(t, Markdown(&md, rs))
	assert.Check(t, is.Contains(md.String(), "On the wire:\n\n- udp-client/sends-message ([capture](captures/udp-client-sends-message.pcapng)), counted in its capture: "))

	var html bytes.Buffer
	assert.NilError(t, HTML(&html, rs))
	page := html.String()
	assert.Check(t, is.Contains(page, `<a href="captures/udp-client-sends-message.pcapng">capture</a>`))
	assert.Check(t, is.Contains(page, `<details class="wire"><summary>On the wire</summary>`))
	// The ladder: the program is the client (it sent first), one arrow
	// from it to netgrade with the time and an excerpt.
	assert.Check(t, is.Contains(page, `<svg class="ladder"`))
	assert.Check(t, is.Contains(page, `netgrade (server)</text>`))
	assert.Check(t, is.Contains(page, `your program (client)</text>`))
	assert.Check(t, is.Contains(page, `>+12.5 ms</text>`))
	assert.Check(t, is.Contains(page, `>udp 5 B &#34;hello&#34;</text>`))
	assert.Check(t, !strings.Contains(page, "<script"))

	var ju bytes.Buffer
	assert.NilError(t, JUnit(&ju, rs))
	assert.Check(t, is.Contains(ju.String(), "[[ATTACHMENT|captures/udp-client-sends-message.pcapng]]"))

	var js bytes.Buffer
	assert.NilError(t, JSON(&js, rs))
	assert.Check(t, is.Contains(js.String(), `"capture": "captures/udp-client-sends-message.pcapng"`))
	assert.Check(t, is.Contains(js.String(), `"source": "capture"`))
}

func TestLadderEscapes(t *testing.T) {
	rs := []report.Result{wireResult("</text><script>alert(1)</script>\x1b[31m\u202e")}
	var html bytes.Buffer
	assert.NilError(t, HTML(&html, rs))
	page := html.String()
	assert.Check(t, !strings.Contains(page, "<script>"))
	assert.Check(t, !strings.Contains(page, "\x1b"))
	assert.Check(t, !strings.Contains(page, "\u202e"))
	var text bytes.Buffer
	assert.NilError(t, Text(&text, rs, TextOptions{}))
	assert.Check(t, !strings.Contains(text.String(), "\x1b[31m"))
}

func TestLadderLimits(t *testing.T) {
	var evs []report.Event
	for i := range 50 {
		evs = append(evs, report.Event{TimeMS: float64(i), Kind: report.EvSend, Proto: "tcp", From: "127.0.0.1:1", To: "127.0.0.1:2", Data: strings.Repeat("x", 100), Bytes: 100})
	}
	svg := string(Ladder(evs))
	assert.Check(t, is.Equal(strings.Count(svg, "<polygon"), ladderMaxRows))
	assert.Check(t, is.Contains(svg, "… 10 more (see the transcript)"))
	assert.Check(t, is.Contains(svg, `&#34;`+strings.Repeat("x", ladderExcerpt)+`…&#34;`))
	assert.Equal(t, string(Ladder([]report.Event{{Kind: report.EvStdout, Data: "hi"}})), "")
}
