package capture_test

import (
	"context"
	"encoding/hex"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/gradertest"
	"github.com/netgrade/netgrade/internal/capture"
	"github.com/netgrade/netgrade/internal/capture/capturetest"
	"github.com/netgrade/netgrade/internal/report"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// gradeCaptured grades one check of an exercise on a passing fixture with
// the loopback captured, saves the capture and returns the check's result
// and its file.
func gradeCaptured(t *testing.T, exercise, fixture, check string) (report.Check, string) {
	t.Helper()
	gradertest.NeedPython(t)
	tap := capturetest.NeedTap(t)
	capturetest.NeedTshark(t)
	ex, err := course.Registry().Get(exercise)
	assert.NilError(t, err)
	fs, err := fixtures.For(exercise)
	assert.NilError(t, err)
	dir := t.TempDir()
	var file string
	for _, f := range fs {
		if f.Name == fixture {
			file, err = f.Write(dir)
			assert.NilError(t, err)
		}
	}
	assert.Assert(t, file != "", "no fixture %s/%s", exercise, fixture)
	sub, err := graders.FileSubmission(file)
	assert.NilError(t, err)
	res := ex.Grade(context.Background(), sub, graders.Options{Course: graders.Settings{Only: []string{check}}, Capture: tap})
	assert.Equal(t, len(res.Checks), 1)
	rc := res.Checks[0]
	assert.Equal(t, rc.Status, report.Pass, "%s on %s: %s", check, fixture, rc.Message)
	out := filepath.Join(dir, "captures")
	rs := []report.Result{res}
	assert.NilError(t, capture.Save(out, "captures", rs))
	rc = rs[0].Checks[0]
	assert.Equal(t, rc.Capture, "captures/"+capture.FileName(check))
	assert.Assert(t, rc.Pcapng == nil, "the bytes are in the file, not in the report")
	assert.Assert(t, rc.Wire != nil && rc.Wire.Source == capture.FromCapture, "%+v", rc.Wire)
	return rc, filepath.Join(out, capture.FileName(check))
}

// message is one message of an exchange: which way it went and its text.
type message struct {
	ToProgram bool
	Text      string
}

// transcriptMessages returns what the transcript says went over the wire,
// in order, each as report.Printable shows it.
func transcriptMessages(evs []report.Event) []message {
	var out []message
	for _, e := range evs {
		switch e.Kind {
		case report.EvSend:
			out = append(out, message{true, e.Data})
		case report.EvRecv:
			out = append(out, message{false, e.Data})
		}
	}
	return out
}

// captureMessages returns the payloads tshark reads in a capture, in
// order, the program being at port.
func captureMessages(t *testing.T, file, proto string, port int) []message {
	rows := capturetest.Tshark(t, file, proto+".payload", []string{proto + ".dstport", proto + ".payload"})
	var out []message
	for _, r := range rows {
		b, err := hex.DecodeString(strings.ReplaceAll(r[1], ":", ""))
		assert.NilError(t, err)
		out = append(out, message{r[0] == strconv.Itoa(port), report.Printable(b)})
	}
	return out
}

// merged joins consecutive messages that went the same way: a TCP stream
// is cut into segments and reads as it likes.
func merged(ms []message) []message {
	var out []message
	for _, m := range ms {
		if n := len(out); n > 0 && out[n-1].ToProgram == m.ToProgram {
			out[n-1].Text += m.Text
			continue
		}
		out = append(out, m)
	}
	return out
}

// programPort returns the program's port: where netgrade sent to, or
// received from.
func programPort(t *testing.T, evs []report.Event) int {
	for _, e := range evs {
		addr := e.To
		if e.Kind == report.EvRecv {
			addr = e.From
		}
		if e.Kind != report.EvSend && e.Kind != report.EvRecv {
			continue
		}
		i := strings.LastIndexByte(addr, ':')
		p, err := strconv.Atoi(addr[i+1:])
		assert.NilError(t, err)
		return p
	}
	t.Fatal("the transcript holds no message")
	return 0
}

var frameSize = regexp.MustCompile(`(\d+)-byte message .* travelled in one (\d+)-byte frame: 14 Ethernet \+ 20 IPv4 \+ 8 UDP \+ (\d+) bytes of data`)

// TestUDPCaptures grades a UDP server and a UDP client with captures: the
// frames hold the datagrams the transcript shows, in order, and the
// frame-size answer is the capture's own frame length.
func TestUDPCaptures(t *testing.T) {
	for _, c := range []struct{ exercise, fixture, check string }{
		{"udp-server", "plain.py", "udp-server/log-format"},
		{"udp-client", "plain.py", "udp-client/sends-message"},
	} {
		t.Run(c.exercise, func(t *testing.T) {
			rc, file := gradeCaptured(t, c.exercise, c.fixture, c.check)
			port := programPort(t, rc.Transcript)
			want := transcriptMessages(rc.Transcript)
			assert.Assert(t, len(want) > 0)
			got := captureMessages(t, file, "udp", port)
			assert.DeepEqual(t, got, want)

			rows := capturetest.Tshark(t, file, "udp", []string{"frame.len", "udp.length"})
			m := frameSize.FindStringSubmatch(rc.Wire.Lines[0])
			assert.Assert(t, m != nil, "the first answer is a frame size: %q", rc.Wire.Lines[0])
			assert.Equal(t, m[2], rows[0][0], "the frame size is the capture's frame length")
			udpLen, _ := strconv.Atoi(rows[0][1])
			assert.Equal(t, m[1], strconv.Itoa(udpLen-8), "the message is the datagram's data")
			assert.Equal(t, m[3], m[1])
			assert.Check(t, is.Contains(rc.Wire.Lines[len(rc.Wire.Lines)-1], "Wireshark shows the text in clear"))
		})
	}
}

var tcpCount = regexp.MustCompile(`TCP connection from port (\d+) to port (\d+): (\d+) frames? to open it.*; (\d+) frames, (\d+) bytes on the wire for (\d+) bytes? of data`)

// TestTCPCapture grades a TCP server with a capture: each way, the frames
// carry the bytes the transcript shows, in the same order, and the counted
// answer (frames, bytes on the wire, data) is the capture's.
func TestTCPCapture(t *testing.T) {
	rc, file := gradeCaptured(t, "tcp-server", "one_exchange.py", "tcp-server/replies")
	port := programPort(t, rc.Transcript)
	want := merged(transcriptMessages(rc.Transcript))
	got := merged(captureMessages(t, file, "tcp", port))
	assert.DeepEqual(t, got, want)

	m := tcpCount.FindStringSubmatch(rc.Wire.Lines[0])
	assert.Assert(t, m != nil, "the first answer counts a connection: %q", rc.Wire.Lines[0])
	rows := capturetest.Tshark(t, file, "tcp.port=="+m[1], []string{"frame.len", "tcp.len", "tcp.flags.syn"})
	frames, size, data, syns := 0, 0, 0, 0
	for _, r := range rows {
		n, _ := strconv.Atoi(r[0])
		d, _ := strconv.Atoi(r[1])
		frames, size, data = frames+1, size+n, data+d
		if r[2] == "1" || r[2] == "True" {
			syns++
		}
	}
	assert.Equal(t, m[2], strconv.Itoa(port))
	assert.Equal(t, m[4], strconv.Itoa(frames), "frames of the connection")
	assert.Equal(t, m[5], strconv.Itoa(size), "bytes on the wire")
	assert.Equal(t, m[6], strconv.Itoa(data), "bytes of data")
	assert.Equal(t, syns, 2, "SYN and SYN-ACK")
	assert.Equal(t, m[3], "3")
}

// TestSTARTTLSCaptureDecrypts grades an SMTP client that uses STARTTLS:
// its capture holds the TLS keys of netgrade's server, so that tshark
// reads the commands sent inside TLS, MAIL FROM among them, in the order
// the transcript shows.
func TestSTARTTLSCaptureDecrypts(t *testing.T) {
	rc, file := gradeCaptured(t, "smtp-client", "mimetext_sendmail.py", "smtp-client/envelope")
	// netgrade's server is where the program sends from: tshark reads
	// SMTP on its port.
	port := 0
	for _, e := range rc.Transcript {
		if e.Kind == report.EvRecv && port == 0 {
			i := strings.LastIndexByte(e.To, ':')
			port, _ = strconv.Atoi(e.To[i+1:])
		}
	}
	rows := capturetest.Tshark(t, file, "smtp.req", []string{"smtp.req.command", "smtp.req.parameter"}, "-d", "tcp.port=="+strconv.Itoa(port)+",smtp")
	var commands [][]string
	for _, r := range rows {
		commands = append(commands, r)
	}
	var lines []string
	tls := false
	for _, e := range rc.Transcript {
		if e.Kind == report.EvRecv {
			lines = append(lines, e.Data)
			tls = tls || strings.HasSuffix(e.Proto, "/tls")
		}
	}
	assert.Assert(t, tls, "the client used STARTTLS")
	// Each command tshark decodes is a line of the transcript, in order
	// (the message's own lines are no commands).
	i := 0
	for _, c := range commands {
		// tshark cuts a command after four letters and a space ("STAR",
		// "TLS" for STARTTLS): the line starts with the command and ends
		// with the parameter.
		for i < len(lines) && !(hasPrefixFold(lines[i], c[0]) && strings.HasSuffix(lines[i], c[1])) {
			i++
		}
		assert.Assert(t, i < len(lines), "%q is not in the transcript's client lines, in order: %q", c, lines)
	}
	mail := false
	for _, c := range commands {
		mail = mail || strings.EqualFold(c[0], "MAIL") && strings.HasPrefix(strings.ToUpper(c[1]), "FROM:<")
	}
	assert.Assert(t, mail, "tshark decrypts MAIL FROM: %q", commands)
	last := rc.Wire.Lines[len(rc.Wire.Lines)-1]
	assert.Check(t, is.Contains(last, "MAIL FROM"))
	assert.Check(t, is.Contains(last, "this capture holds the session keys"))
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
