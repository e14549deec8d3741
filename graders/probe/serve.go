package probe

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/observe"
	"github.com/netgrade/netgrade/internal/poll"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/report"
)

// Deadlines shared by the exercises. They bound waits for events; none is a
// sleep: a correct program meets each of them in milliseconds.
const (
	// ReadyTimeout bounds the wait for a server to bind or listen on its
	// port after it was started (an interpreter's start on a loaded machine).
	ReadyTimeout = 5 * time.Second
	// LineTimeout bounds the wait for a line the program must print in
	// answer to something netgrade did.
	LineTimeout = 3 * time.Second
	// ExitTimeout bounds the wait for a program that must end by itself
	// (a client after its exchange, a server given wrong arguments).
	ExitTimeout = 5 * time.Second
	// StartGrace is how much longer, once, StartServer waits for a server
	// that holds no socket at ReadyTimeout but is still at work (running or
	// waiting for a CPU: an interpreter importing its modules on a machine
	// whose cores are all busy). A program blocked on anything else gets
	// no more time, so that a wrong program's verdict and its timing are
	// those of an idle machine.
	StartGrace = 5 * time.Second
	// StartGraces is how many times at most StartServer grants StartGrace,
	// each time only when the program is still at work and has used less
	// than StartCPU of CPU: a program that makes progress on a machine
	// whose cores are busy with other work is waited for, not judged on
	// the wall clock alone; one that spins without ever listening has its
	// CPU budget end the wait.
	StartGraces = 3
	// StartCPU is the CPU time a program may use and still be "starting":
	// far more than an interpreter and a web framework take to import.
	StartCPU = 3 * time.Second
)

// StartServer starts the submission as a server on a fresh port and waits,
// without touching it (netlink sock_diag, or /proc where that is refused),
// until it holds a socket of proto on that port that a client on 127.0.0.1
// reaches; the transcript notes how the socket was seen. Its failures name what the program did
// instead: exited, bound another port, bound an unreachable address.
func StartServer(t *graders.T, proto string) (*harness.Process, int, error) {
	return StartServerEnv(t, proto, nil)
}

// StartServerEnv is StartServer with env (KEY=VALUE) added to the
// program's environment: the race hook a check runs it under.
func StartServerEnv(t *graders.T, proto string, env []string) (*harness.Process, int, error) {
	port, err := t.Port()
	if err != nil {
		return nil, 0, err
	}
	p, err := t.StartEnv(map[string]string{"port": strconv.Itoa(port)}, env)
	if err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(t.Context(), t.Timeout(ReadyTimeout))
	defer cancel()
	r, err := observe.AwaitBound(ctx, p.Pid(), proto, port, p.Done())
	waited := t.Timeout(ReadyTimeout)
	for graces := 0; graces < StartGraces && stillStarting(t, p, err, r.Held, proto, waited); graces++ {
		gctx, gcancel := context.WithTimeout(t.Context(), t.Timeout(StartGrace))
		more, merr := observe.AwaitBound(gctx, p.Pid(), proto, port, p.Done())
		gcancel()
		more.Looks += r.Looks
		more.Waited += r.Waited
		r, err = more, merr
		waited += t.Timeout(StartGrace)
	}
	if err == nil {
		s := r.Socket
		t.Note("the program holds %s (state %s), seen through %s after %d look%s in %s", s, s.State, r.Via, r.Looks, plural(r.Looks), r.Waited.Round(time.Millisecond))
		return p, port, nil
	}
	// A socket a client on 127.0.0.1 reaches that appeared between the
	// deadline's last look and the reading of what the program holds: the
	// program is ready, late; judging its address would be wrong.
	for _, s := range r.Held {
		if s.Proto == proto && s.Port == port && s.Listening() && s.CoversLoopback() && p.Running() {
			t.Note("the program holds %s (state %s), seen as the wait for it ended (%s)", s, s.State, waited)
			return p, port, nil
		}
	}
	socks := r.Held
	what := "bind UDP port"
	if proto == "tcp" {
		what = "listen on TCP port"
	}
	if t.Context().Err() != nil {
		return nil, 0, t.Context().Err()
	}
	held := DescribeSockets(socks, proto)
	switch {
	case errors.Is(err, observe.ErrExited):
		_ = p.WaitOutput(t.Context())
		if portStolen(p, port) {
			return nil, 0, fmt.Errorf("%w: port %d", graders.ErrPortTaken, port)
		}
		f := graders.Failf("the program ended before it could %s %d (%s)", what, port, p.Exit())
		f.Hint = "A server runs until it is stopped: check the traceback, and read the port from the command line (int(sys.argv[1]))."
		return nil, 0, f
	case held != "" && strings.Contains(held, fmt.Sprintf(":%d", port)):
		f := graders.Failf("the program %s, which a client connecting to 127.0.0.1:%d cannot reach", held, port)
		f.Hint = `Bind every address ("" or "0.0.0.0") or 127.0.0.1, not another interface's address.`
		return nil, 0, wantSocket(f, proto, port, held)
	case held != "":
		f := graders.Failf("the program %s, but the grader asked for port %d", held, port)
		f.Hint = "The port is a command-line argument: use int(sys.argv[1]) instead of a fixed number."
		return nil, 0, wantSocket(f, proto, port, held)
	default:
		f := graders.Failf("the program did not %s %d within %s (it holds no %s socket)", what, port, waited, strings.ToUpper(proto))
		f.Hint = "Create the socket, bind it to (\"\", port) with the port from sys.argv[1], before anything else that waits."
		return nil, 0, f
	}
}

// portStolen reports whether a program that ended failed to bind because
// another process (not one of the grading) holds the port netgrade gave it.
func portStolen(p *harness.Process, port int) bool {
	said := slices.ContainsFunc(p.Output().Lines(), func(l harness.Line) bool {
		return strings.Contains(l.Text, "Address already in use") || strings.Contains(l.Text, "address already in use")
	})
	return said && !harness.PortFree(port)
}

// wantSocket fills expected/actual with the socket asked for and
// the sockets held.
func wantSocket(f *graders.Failure, proto string, port int, held string) *graders.Failure {
	return f.Want(fmt.Sprintf("%s *:%d", strings.ToUpper(proto), port), strings.TrimPrefix(held, "bound "))
}

// DescribeSockets says which sockets of proto a program holds, e.g.
// "bound UDP 0.0.0.0:1234".
func DescribeSockets(socks []observe.Socket, proto string) string {
	var parts []string
	for _, s := range socks {
		if s.Proto == proto && s.Listening() {
			parts = append(parts, s.String())
		}
	}
	if len(parts) == 0 {
		return ""
	}
	verb := "bound "
	if proto == "tcp" {
		verb = "listens on "
	}
	return verb + strings.Join(parts, ", ")
}

// WaitLine waits up to timeout for a line printed from index from on that
// satisfies match. It returns the line, or ok false when the deadline passed
// or the program's output ended first.
func WaitLine(t *graders.T, p *harness.Process, from int, timeout time.Duration, match func(string) bool) (harness.Line, int, bool) {
	ctx, cancel := context.WithTimeout(t.Context(), t.Timeout(timeout))
	defer cancel()
	l, i, err := p.Output().Wait(ctx, from, func(l harness.Line) bool { return match(l.Text) })
	return l, i, err == nil
}

// PrintedSince lists the lines printed from index from on, for a failure
// message, or "(nothing)".
func PrintedSince(p *harness.Process, from int) string {
	var b strings.Builder
	for _, l := range p.Output().Since(from) {
		fmt.Fprintf(&b, "%s\n", l.Text)
	}
	if b.Len() == 0 {
		return "(nothing)"
	}
	return strings.TrimRight(b.String(), "\n")
}

// StillRunning returns a failure when the program has ended although it
// should serve on.
func StillRunning(t *graders.T, p *harness.Process, after string) error {
	if p.Running() {
		return nil
	}
	_ = p.WaitOutput(t.Context())
	return graders.Failf("the program ended %s (%s); a server must keep serving until it is stopped", after, p.Exit()).
		WithHint("Wrap the receive-and-answer code in a `while True:` loop.")
}

// StartsCheck returns the check every server exercise begins with: `PROG
// PORT` binds (UDP) or listens (TCP) on PORT, reachable on 127.0.0.1, and
// keeps running. The other checks of the exercise need it.
func StartsCheck(exercise, proto, hint string) *graders.Check {
	title, req := "starts and binds the UDP port given on its command line",
		"`PROG PORT` binds a UDP socket on PORT (reachable on 127.0.0.1) and keeps running."
	if proto == "tcp" {
		title, req = "starts and listens on the TCP port given on its command line",
			"`PROG PORT` listens on TCP port PORT (reachable on 127.0.0.1) and keeps running."
	}
	return &graders.Check{
		ID: exercise + "/starts", Title: title, Requirement: req,
		Category: report.Start, Points: 2, Hint: hint,
		// The wait for the socket, with every grace a program still at
		// work on a busy machine may get.
		Timeout: ReadyTimeout + StartGraces*StartGrace + 5*time.Second,
		Run: func(ctx context.Context, t *graders.T) error {
			_, _, err := StartServer(t, proto)
			return err
		},
	}
}

// UsageCheck returns the check that a server run without arguments prints
// a usage message and exits non-zero; note, if any, adds to the requirement.
func UsageCheck(exercise, note, hint string) *graders.Check {
	req := "`PROG` with no argument prints a line containing `Usage` and exits with a non-zero status"
	if note != "" {
		req += " " + note
	}
	return &graders.Check{
		ID: exercise + "/usage", Title: "without arguments, prints a usage message and exits non-zero",
		Requirement: req + ".", Category: report.Usage, Points: 1, Hint: hint,
		// The wait for the exit, with every grace a program still at work
		// on a busy machine may get.
		Timeout: ExitTimeout + StartGraces*StartGrace + usageExitGrace + 5*time.Second,
		Run:     checkUsage,
	}
}

// stillStarting reports whether a wait for a program's server socket that
// ended at its deadline (err), after waited, with no such socket held,
// gets StartGrace more (at most StartGraces times): the program is still at work (importing a
// framework on a machine whose cores are all busy), where one blocked on
// anything else gets no more time. It notes why in the transcript.
func stillStarting(t *graders.T, p *harness.Process, err error, held []observe.Socket, proto string, waited time.Duration) bool {
	if !errors.Is(err, context.DeadlineExceeded) || t.Context().Err() != nil || DescribeSockets(held, proto) != "" {
		return false
	}
	if dl, ok := t.Context().Deadline(); ok && time.Until(dl) < t.Timeout(StartGrace)+graceMargin {
		return false
	}
	busy, cpu := observe.Busy(p.Pid())
	if busy && cpu >= StartCPU {
		t.Note("after %s the program holds no %s socket and has used %s of CPU, more than any start takes: netgrade waits no longer",
			waited, strings.ToUpper(proto), cpu.Round(10*time.Millisecond))
		return false
	}
	if busy {
		t.Note("after %s the program holds no %s socket yet but is still at work (%s of CPU so far): netgrade waits up to %s more",
			waited, strings.ToUpper(proto), cpu.Round(10*time.Millisecond), t.Timeout(StartGrace))
	}
	return busy
}

// usageFirstLook is how long a program run without arguments runs before
// checkUsage first looks for a server socket of it.
const usageFirstLook = 200 * time.Millisecond

// usageExitGrace is how much longer a program that printed its usage line
// gets to exit, past ExitTimeout.
const usageExitGrace = 5 * time.Second

// checkUsage runs the program without arguments: it must exit non-zero
// with a usage line, and neither crash nor start serving anyway.
func checkUsage(ctx context.Context, t *graders.T) error {
	p, err := t.Start(nil)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, t.Timeout(ExitTimeout))
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
	// used) gets StartGrace more, up to StartGraces times: the wall clock
	// alone does not decide.
	var grace <-chan time.Time
	graces := 0
	waited := t.Timeout(ExitTimeout)
	deadline := wctx.Done()
wait:
	select {
	case <-p.Done():
	case socks := <-served:
		return graders.Failf("without a port argument the program started serving anyway (%s) instead of printing a usage message", DescribeSockets(socks, socks[0].Proto)).
			Want("a line containing `Usage` and a non-zero exit status", "a running server")
	case <-grace:
		if graces < StartGraces && p.Running() && ClientStillStarting(t, p, waited) {
			graces++
			waited += t.Timeout(StartGrace)
			grace = time.After(t.Timeout(StartGrace))
			goto wait
		}
		return graders.Failf("without arguments the program was still running after %s", waited).
			Want("a line containing `Usage` and a non-zero exit status", "still running; printed:\n"+PrintedSince(p, 0))
	case <-deadline:
		if ctx.Err() != nil {
			return ctx.Err()
		}
		deadline = nil
		if _, _, printed := WaitLine(t, p, 0, 0, UsageLine.MatchString); !printed && p.Running() && ClientStillStarting(t, p, waited) {
			graces++
			waited += t.Timeout(StartGrace)
			grace = time.After(t.Timeout(StartGrace))
			goto wait
		}
		// A program that has printed its usage line is on its way out: on
		// a loaded machine give it usageExitGrace more to end.
		if _, _, ok := WaitLine(t, p, 0, 0, UsageLine.MatchString); ok {
			gctx, gcancel := context.WithTimeout(ctx, t.Timeout(usageExitGrace))
			_, werr := p.Wait(gctx)
			gcancel()
			if werr == nil {
				break
			}
		}
		return graders.Failf("without arguments the program was still running after %s", t.Timeout(ExitTimeout)).
			Want("a line containing `Usage` and a non-zero exit status", "still running; printed:\n"+PrintedSince(p, 0))
	}
	_ = p.WaitOutput(ctx)
	ex := p.Exit()
	hasUsage := slices.ContainsFunc(p.Output().Lines(), func(l harness.Line) bool { return UsageLine.MatchString(l.Text) })
	got := fmt.Sprintf("%s; printed:\n%s", ex, PrintedSince(p, 0))
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

// UsageLine matches a usage message ("Usage: ...", "usage: prog PORT"),
// but not a traceback frame naming a file such as no_usage.py.
var UsageLine = regexp.MustCompile(`(?i)^(?:[^"]*[^\w"])?usage\b`)

// UTF8Text is the non-ASCII text the encoding checks of every chapter send
// and expect back: 7 characters, 10 bytes in UTF-8.
const UTF8Text = "các bạn"

// plural is "s" unless n is 1.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// graceMargin is what a check keeps, past a grace, to judge what came.
const graceMargin = 2 * time.Second

// StillAtWork reports whether a program that has not done what it was
// waited for after waited is still starting: at work (running, or waiting
// for a CPU or the disk) with less than StartCPU of CPU used. A client
// gets then StartGrace more, as a server does (see StartServer); the
// transcript says why.
func StillAtWork(t *graders.T, p *harness.Process, waited time.Duration) bool {
	// A grace that would outlast the check's own deadline is no grace: the
	// check would end in its watchdog's failure instead of its own.
	if dl, ok := t.Context().Deadline(); ok && time.Until(dl) < t.Timeout(StartGrace)+graceMargin {
		return false
	}
	busy, cpu := observe.Busy(p.Pid())
	if !busy || cpu >= StartCPU {
		return false
	}
	t.Note("after %s the program is still at work (%s of CPU so far): netgrade waits up to %s more", waited, cpu.Round(10*time.Millisecond), t.Timeout(StartGrace))
	return true
}

// ClientStillStarting reports whether a client program that has not done
// what it was waited for after waited is still starting: it holds no
// socket yet (a client past its start has made one) and is still at work
// (StillAtWork). A client that sent and then waits, with or without a
// timeout, holds its socket: it gets no more time.
func ClientStillStarting(t *graders.T, p *harness.Process, waited time.Duration) bool {
	if socks, err := observe.Sockets(p.Pid()); err != nil || len(socks) > 0 {
		return false
	}
	return StillAtWork(t, p, waited)
}
