package sandbox

import (
	"github.com/netgrade/netgrade/internal/capture"
	"github.com/netgrade/netgrade/internal/report"
)

// openCapture opens the unit's capture of the loopback when the unit asks
// for one (Unit.Capture), where the runner runs: in the netns and docker
// sandboxes the unit's own loopback, which holds nothing else. It returns
// nil and the sentence every result then carries when capturing is not
// allowed here.
func openCapture(u Unit) (*capture.Tap, string) {
	if !u.Capture {
		return nil, ""
	}
	tap, err := capture.Open()
	if err != nil {
		return nil, "no capture in the " + u.Sandbox + " sandbox: " + err.Error()
	}
	return tap, ""
}

// noteCapture records why a result has no capture.
func noteCapture(res *report.Result, note string) {
	if note != "" {
		res.CaptureNote = note
	}
}
