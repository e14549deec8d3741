package checks

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/observe"
	"github.com/netgrade/netgrade/internal/poll"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/report"
)

// Usage returns the check that a server run without arguments prints a
// usage message and exits non-zero. usage is the exercise's command line
// (graders.Exercise.Usage, "udp-server.py PORT"), which the hint shows as
// the line to print; note, if any, adds to the requirement. The check is
// Independent: it runs the program without the port the starts check
// gives it.
func Usage(usage, note string) *graders.Check {
	req := "`PROG` with no argument prints a line containing `Usage` and exits with a non-zero status"
	if note != "" {
		req += " " + note
	}
	return &graders.Check{
		ID: "usage", Title: "without arguments, prints a usage message and exits non-zero",
		Requirement: req + ".", Category: report.Usage, Points: 1, Hint: UsageHint(usage),
		Independent: true,
		// The wait for the exit, with every grace a program still at work
		// on a busy machine may get.
		Timeout: probe.ExitTimeout + probe.StartGraces*probe.StartGrace + usageExitGrace + 5*time.Second,
		Run:     usageRun,
	}
}

// UsageHint is the usage check's advice for an exercise whose command
// line is usage: the test of sys.argv and the line to print.
func UsageHint(usage string) string {
	return fmt.Sprintf("Check len(sys.argv); if the port is missing, print('Usage: %s') and sys.exit(1).", usage)
}

// usageFirstLook is how long a program run without arguments runs before
// usageRun first looks for a server socket of it.
const usageFirstLook = 200 * time.Millisecond

// usageExitGrace is how much longer a program that printed its usage line
// gets to exit, past probe.ExitTimeout.
const usageExitGrace = 5 * time.Second

// usageRun runs the program without arguments: it must exit non-zero
// with a usage line, and neither crash nor start serving anyway.
func usageRun(t *graders.T) error {
	p, err := t.Start(nil)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(t.Context(), t.Timeout(probe.ExitTimeout))
	defer cancel()
	// Either it exits, or it starts serving on some port anyway. A program
	// that prints its usage exits within a start: its sockets are looked
	// at only once it has run for usageFirstLook, so that the usual case
	// costs no look at all; the verdict is the same, only a server that
	// starts anyway is named a little later.
	served := make(chan []observe.Socket, 1)
	go func() {
		first := time.NewTimer(usageFirstLook)
		defer first.Stop()
		select {
		case <-p.Done():
			return
		case <-wctx.Done():
			return
		case <-first.C:
		}
		_, _ = poll.Wait(wctx, func(context.Context) poll.Result {
			socks, err := observe.Sockets(p.Pid())
			if err != nil {
				return poll.Continue("reading the program's sockets: %v", err)
			}
			for _, s := range socks {
				if s.Listening() {
					served <- socks
					return poll.Done()
				}
			}
			return poll.Continue("%d sockets, none serving", len(socks))
		}, poll.StopOn(p.Done(), observe.ErrExited))
	}()
	// A program still starting on a busy machine (at work, little CPU
	// used) gets probe.StartGrace more, up to probe.StartGraces times: the wall clock
	// alone does not decide.
	var grace <-chan time.Time
	graces := 0
	waited := t.Timeout(probe.ExitTimeout)
	deadline := wctx.Done()
wait:
	select {
	case <-p.Done():
	case socks := <-served:
		return graders.Failf("without a port argument the program started serving anyway (%s) instead of printing a usage message", probe.DescribeSockets(socks, socks[0].Proto)).
			Want("a line containing `Usage` and a non-zero exit status", "a running server")
	case <-grace:
		if graces < probe.StartGraces && p.Running() && probe.ClientStillStarting(t, p, waited) {
			graces++
			waited += t.Timeout(probe.StartGrace)
			grace = time.After(t.Timeout(probe.StartGrace))
			goto wait
		}
		return graders.Failf("without arguments the program was still running after %s", waited).
			Want("a line containing `Usage` and a non-zero exit status", "still running; printed:\n"+probe.PrintedSince(p, 0))
	case <-deadline:
		if t.Context().Err() != nil {
			return t.Context().Err()
		}
		deadline = nil
		if _, _, printed := probe.WaitLine(t, p, 0, 0, usageLine.MatchString); !printed && p.Running() && probe.ClientStillStarting(t, p, waited) {
			graces++
			waited += t.Timeout(probe.StartGrace)
			grace = time.After(t.Timeout(probe.StartGrace))
			goto wait
		}
		// A program that has printed its usage line is on its way out: on
		// a loaded machine give it usageExitGrace more to end.
		if _, _, ok := probe.WaitLine(t, p, 0, 0, usageLine.MatchString); ok {
			gctx, gcancel := context.WithTimeout(t.Context(), t.Timeout(usageExitGrace))
			_, werr := p.Wait(gctx)
			gcancel()
			if werr == nil {
				break
			}
		}
		return graders.Failf("without arguments the program was still running after %s", t.Timeout(probe.ExitTimeout)).
			Want("a line containing `Usage` and a non-zero exit status", "still running; printed:\n"+probe.PrintedSince(p, 0))
	}
	_ = p.WaitOutput(t.Context())
	ex := p.Exit()
	hasUsage := slices.ContainsFunc(p.Output().Lines(), func(l harness.Line) bool { return usageLine.MatchString(l.Text) })
	got := fmt.Sprintf("%s; printed:\n%s", ex, probe.PrintedSince(p, 0))
	switch {
	case hasUsage && ex.Code != 0:
		return nil
	case hasUsage:
		return graders.Failf("the usage message is printed, but the program exits with status 0").
			Want("a non-zero exit status (sys.exit(1))", ex.String()).
			WithHint("A program that could not do its job exits non-zero: sys.exit(1) after the usage message.")
	case pyenv.LastTraceback(p.Output().Lines()) != nil:
		return graders.Failf("without arguments the program crashes (%s) instead of printing a usage message", ex).
			Want("a line containing `Usage` and a non-zero exit status", got)
	default:
		return graders.Failf("without arguments the program prints no usage message").
			Want("a line containing `Usage` and a non-zero exit status", got)
	}
}

// usageLine matches a usage message ("Usage: ...", "usage: prog PORT"),
// but not a traceback frame naming a file such as no_usage.py.
var usageLine = regexp.MustCompile(`(?i)^(?:[^"]*[^\w"])?usage\b`)
