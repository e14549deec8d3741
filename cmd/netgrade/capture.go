package main

import (
	"fmt"
	"io"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/capture"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/spf13/cobra"
)

// captureUsage is the help of --capture.
const captureUsage = "write a pcapng capture of each check's frames on the loopback into DIR (Wireshark opens it; the TLS keys of netgrade's mail servers inside), linked from the reports; needs root or CAP_NET_RAW"

// captureFlag is --capture DIR of grade and check: one capture of the
// loopback for the whole run, a file per check.
type captureFlag struct {
	dir string
	tap *capture.Tap
	// note says why there is no capture although one was asked for.
	note string
}

func (f *captureFlag) register(c *cobra.Command) {
	c.Flags().StringVar(&f.dir, "capture", "", captureUsage)
}

// start opens the capture when one is asked for and sets it in opt. When
// the machine does not allow it, it says why on stderr and in the
// results (see save); the grading goes on without.
func (f *captureFlag) start(opt *graders.Options, stderr io.Writer) {
	if f.dir == "" {
		return
	}
	tap, err := capture.Open()
	if err != nil {
		f.note = "no capture: " + err.Error()
		fmt.Fprintf(stderr, "netgrade: %s\n", f.note)
		return
	}
	f.tap, opt.Capture = tap, tap
}

// stop ends the capture.
func (f *captureFlag) stop() {
	if f.tap != nil {
		_ = f.tap.Close()
		f.tap = nil
	}
}

// save writes the results' captures into the folder and links them, or
// says in each result why there are none.
func (f *captureFlag) save(results []report.Result) error {
	if f.dir == "" {
		return nil
	}
	if f.note != "" {
		for i := range results {
			results[i].CaptureNote = f.note
		}
	}
	if err := capture.Save(f.dir, f.dir, results); err != nil {
		return internalErr(err)
	}
	return nil
}
