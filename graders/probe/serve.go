package probe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/observe"
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
	} else {
		t.Note("after %s the program holds no %s socket and is not at work (none of its processes ran or waited for a CPU or the disk over 100 ms; %s of CPU so far): netgrade waits no longer",
			waited, strings.ToUpper(proto), cpu.Round(10*time.Millisecond))
	}
	return busy
}

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
