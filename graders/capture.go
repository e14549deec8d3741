package graders

import (
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/netgrade/netgrade/internal/capture"
	"github.com/netgrade/netgrade/internal/report"
)

// captureSync bounds how long the end of a grading waits for the capture
// to have read its checks' last frames.
const captureSync = 3 * time.Second

// wire is what T keeps of the check's traffic besides its transcript: the
// capture window (when the grading captures) and the TLS session keys of
// netgrade's own servers.
type wire struct {
	win    *capture.Window
	keylog []byte
}

// captures are the capture windows of one grading's checks: every check's
// window stays open until the grading ends, when one wait for the capture
// to catch up serves them all (not one per check, on each check's path).
type captures struct {
	mu    sync.Mutex
	all   []*T          // every attempt's, its window to close
	final map[string]*T // the attempt each check's verdict is from
}

// openCapture starts the check's capture window, when the grading
// captures (Options.Capture).
func (t *T) openCapture() {
	if t.opt.Capture == nil || t.opt.captures == nil {
		return
	}
	t.wire.win = t.opt.Capture.Open(t.begin)
	cs := t.opt.captures
	cs.mu.Lock()
	cs.all = append(cs.all, t)
	cs.mu.Unlock()
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

// reportWire sets what the check's traffic teaches, computed from its
// transcript; when the grading captures, the check's verdict waits for
// its frames (sealCaptures).
func (t *T) reportWire(rc *report.Check) {
	if t.wire.win == nil {
		rc.Wire = capture.Compute(rc.Transcript)
		return
	}
	cs := t.opt.captures
	cs.mu.Lock()
	cs.final[rc.ID] = t
	cs.mu.Unlock()
}

// newCaptures returns the windows of a grading that captures, or nil.
func newCaptures(opt Options) *captures {
	if opt.Capture == nil {
		return nil
	}
	return &captures{final: map[string]*T{}}
}

// sealCaptures closes the windows of a grading's checks once they have
// all ended, and gives each check its pcapng capture and the answers
// counted in it.
func sealCaptures(opt Options, checks []report.Check) {
	cs := opt.captures
	if cs == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), captureSync)
	defer cancel()
	synced := opt.Capture.Sync(ctx)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	got := map[*T]capture.Capture{}
	for _, t := range cs.all {
		got[t] = t.wire.win.CloseSynced(synced)
	}
	for i := range checks {
		if t := cs.final[checks[i].ID]; t != nil {
			t.captured(&checks[i], got[t])
		}
	}
}

// captured sets a check's capture and what it teaches.
func (t *T) captured(rc *report.Check, c capture.Capture) {
	t.mu.Lock()
	keylog := t.wire.keylog
	t.mu.Unlock()
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
