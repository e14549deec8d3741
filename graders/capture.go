package graders

import (
	"context"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/netgrade/netgrade/internal/capture"
	"github.com/netgrade/netgrade/internal/report"
)

// captureSync bounds how long a check's end waits for the capture to have
// read the check's last frames.
const captureSync = 3 * time.Second

// wire is what T keeps of the check's traffic besides its transcript: the
// capture window (when the grading captures) and the TLS session keys of
// netgrade's own servers.
type wire struct {
	win    *capture.Window
	frames *capture.Capture
	keylog []byte
}

// openCapture starts the check's capture window, when the grading
// captures (Options.Capture).
func (t *T) openCapture() {
	if t.opt.Capture != nil {
		t.wire.win = t.opt.Capture.Open(t.begin)
	}
}

// watchPort makes the frames to and from port the check's.
func (t *T) watchPort(port int) {
	if t.wire.win != nil {
		t.wire.win.Watch(port)
	}
}

// watchAddr makes the frames to and from the port of addr ("HOST:PORT")
// the check's: the ports of every connection and datagram the transcript
// records, the port a program chose and netgrade followed included.
func (t *T) watchAddr(addr string) {
	if t.wire.win == nil || addr == "" {
		return
	}
	if _, p, err := net.SplitHostPort(addr); err == nil {
		if n, err := strconv.Atoi(p); err == nil {
			t.wire.win.Watch(n)
		}
	}
}

// sealCapture ends the check's capture window once its programs are
// stopped: the frames of its ports since it began. A port recorded later
// (a straggling recorder) changes nothing.
func (t *T) sealCapture() {
	if t.wire.win == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), captureSync)
	defer cancel()
	c := t.wire.win.Close(ctx)
	t.mu.Lock()
	t.wire.frames = &c
	t.mu.Unlock()
}

// KeyLog returns where netgrade's own TLS servers write the session
// secrets of the check's connections (tls.Config.KeyLogWriter, NSS key
// log format): the check's capture carries them, so that Wireshark
// decrypts the dialogue.
func (t *T) KeyLog() io.Writer { return keyLog{t} }

type keyLog struct{ t *T }

func (k keyLog) Write(p []byte) (int, error) {
	k.t.mu.Lock()
	k.t.wire.keylog = append(k.t.wire.keylog, p...)
	k.t.mu.Unlock()
	return len(p), nil
}

// reportWire sets what the check's traffic teaches and, when the grading
// captures, its pcapng capture.
func (t *T) reportWire(rc *report.Check) {
	t.mu.Lock()
	c, keylog := t.wire.frames, t.wire.keylog
	t.mu.Unlock()
	if c == nil {
		rc.Wire = capture.Compute(rc.Transcript)
		return
	}
	rc.Wire = capture.Lesson(c.Frames, rc.Transcript, len(keylog) > 0)
	if c.Dropped > 0 {
		rc.Notes = append(rc.Notes, "the capture keeps the first "+strconv.Itoa(capture.MaxCapture>>20)+" MiB of the check's frames; "+strconv.Itoa(c.Dropped)+" frames beyond are left out")
	}
	if c.Incomplete != "" {
		rc.Notes = append(rc.Notes, c.Incomplete)
	}
	if len(c.Frames) == 0 {
		return // no traffic, no file
	}
	data, err := capture.Bytes(c.Frames, keylog, "netgrade: check "+rc.ID+" of "+t.sub.Name)
	if err != nil {
		rc.Notes = append(rc.Notes, "no capture: "+err.Error())
		return
	}
	rc.Pcapng = data
}
