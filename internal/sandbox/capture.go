package sandbox

import (
	"sync"

	"github.com/netgrade/netgrade/internal/capture"
	"github.com/netgrade/netgrade/internal/report"
)

// sharedTap is one capture of the machine's loopback for every unit the
// process sandbox grades at once: each check takes the frames of its own
// ports from it, and the kernel copies each frame once, not once per
// student graded at the same time.
type sharedTap struct {
	once sync.Once
	tap  *capture.Tap
	err  error
}

// get opens the capture the first time it is asked for.
func (s *sharedTap) get() (*capture.Tap, error) {
	s.once.Do(func() { s.tap, s.err = capture.Open() })
	return s.tap, s.err
}

// close closes the capture if it was opened.
func (s *sharedTap) close() error {
	if s.tap == nil {
		return nil
	}
	return s.tap.Close()
}

// openCapture opens the unit's capture of the loopback when the unit asks
// for one (Unit.Capture), where the runner runs: in the netns and docker
// sandboxes the unit's own loopback, which holds nothing else; in the
// process sandbox the runner's shared capture. It returns the capture,
// a function that releases it, and, when capturing is not allowed here,
// nil and the sentence every result then carries.
func (r *Runner) openCapture(u Unit) (*capture.Tap, func(), string) {
	if !u.Capture {
		return nil, func() {}, ""
	}
	if r.shared != nil {
		tap, err := r.shared.get()
		if err != nil {
			return nil, func() {}, "no capture in the " + u.Sandbox + " sandbox: " + err.Error()
		}
		return tap, func() {}, ""
	}
	tap, err := capture.Open()
	if err != nil {
		return nil, func() {}, "no capture in the " + u.Sandbox + " sandbox: " + err.Error()
	}
	return tap, func() { _ = tap.Close() }, ""
}

// noteCapture records why a result has no capture.
func noteCapture(res *report.Result, note string) {
	if note != "" {
		res.CaptureNote = note
	}
}
