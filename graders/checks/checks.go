// Package checks holds the checks several exercises share: a server
// starts (Starts, HTTPStarts), a program run without arguments prints its
// usage (Usage), a TCP server survives a silent client (SilentClient), and
// the rules of the course texts those checks read (PortRule). A chapter
// declares them among its own checks; their IDs are short ("starts",
// "usage", "silent-client") like every check's, and graders.NewExercise
// prefixes them with the exercise.
//
// It sits above graders/probe, which only talks to programs: the checks
// here are judgements built from probe's talk, as a chapter's are, so that
// probe never needs to know what an exercise requires.
package checks

import (
	"fmt"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/netgrade/netgrade/internal/report"
)

// StartsID is the short ID of the check a server exercise begins with: the
// exercise's Needs names it.
const StartsID = "starts"

// Starts returns the check every server exercise begins with: `PROG PORT`
// binds (UDP, proto "udp") or listens (TCP, proto "tcp") on PORT,
// reachable on 127.0.0.1, and keeps running. The other checks of the
// exercise need it (graders.Exercise.Needs: StartsID).
func Starts(proto, hint string) *graders.Check {
	title, req := "starts and binds the UDP port given on its command line",
		"`PROG PORT` binds a UDP socket on PORT (reachable on 127.0.0.1) and keeps running."
	if proto == "tcp" {
		title, req = "starts and listens on the TCP port given on its command line",
			"`PROG PORT` listens on TCP port PORT (reachable on 127.0.0.1) and keeps running."
	}
	return &graders.Check{
		ID: StartsID, Title: title, Requirement: req,
		Category: report.Start, Points: 2, Hint: hint,
		// The wait for the socket, with every grace a program still at
		// work on a busy machine may get.
		Timeout: probe.ReadyTimeout + probe.StartGraces*probe.StartGrace + 5*time.Second,
		Run: func(t *graders.T) error {
			_, _, err := probe.StartServer(t, proto)
			return err
		},
	}
}

// HTTPStarts returns the check an HTTP exercise begins with: the program
// starts and listens on a TCP port a local client reaches (the one given,
// or its own, followed). The other checks need it.
func HTTPStarts(hint string) *graders.Check {
	return &graders.Check{
		ID: StartsID, Title: "starts and listens on a TCP port",
		Requirement: "`PROG [PORT]` starts an HTTP server listening on a TCP port that a client on this machine reaches (127.0.0.1, \"localhost\" or every address), and keeps running. " +
			"A program that hard-codes its port (8888) is followed there.",
		Category: report.Start, Points: 2, Hint: hint,
		Run: httpStarts,
	}
}

// httpStarts starts the program as an HTTP server, noting when netgrade
// follows it to a port of its own.
func httpStarts(t *graders.T) error {
	s, err := probe.StartHTTP(t, nil)
	if err == nil && s.Followed() {
		t.Notice("the program listens on %s, not on the port it was given (%d): netgrade follows it", s.Socket, s.Given)
	}
	return err
}

// SilentClient returns the silent-client check every TCP server exercise
// has: after a client that connects and closes without sending, the
// server still runs and answers the next client, played by next (see
// silentClient). reply is the longest a reply to next may take; hint
// is the exercise's advice.
func SilentClient(hint string, reply time.Duration, next probe.NextClient) *graders.Check {
	return &graders.Check{
		ID: "silent-client", Title: "survives a client that connects and closes without sending",
		Requirement: "After a client connects and closes at once without sending anything, the server still runs and answers the next client (when it serves no next client after an ordinary client either, next-client judges that, not this check).",
		Category:    report.Robustness, Points: 1,
		Hint: hint,
		// Two servers (the probe and, when it fails, the control run),
		// each with three clients that may wait for a late reply.
		Timeout: 2*probe.ReadyTimeout + 3*(reply+probe.LineTimeout),
		Run: func(t *graders.T) error {
			return silentClient(t, next)
		},
	}
}

// PortRule is the course-file rule of probe.TextPort: one of its two
// values.
func PortRule(v string) error {
	if v != probe.PortFollow && v != probe.PortArgv {
		return fmt.Errorf("%q is neither %q (follow a program to the port it listens on) nor %q (it must listen on the port it is given)", v, probe.PortFollow, probe.PortArgv)
	}
	return nil
}
