package graders

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/netgrade/netgrade/internal/harness"
)

// Deadlines shared by the exercises. They bound waits for events; none is a
// sleep: a correct program meets each of them in milliseconds.
const (
	// ReadyTimeout bounds the wait for a server to bind or listen on its
	// port after it was started (an interpreter's start on a loaded machine).
	ReadyTimeout = 5 * time.Second
	// LineTimeout bounds the wait for a line the program must print in
	// answer to something netgrade did.
	LineTimeout = 2 * time.Second
	// ExitTimeout bounds the wait for a program that must end by itself
	// (a client after its exchange, a server given wrong arguments).
	ExitTimeout = 3 * time.Second
)

// startServer starts the submission as a server on a fresh port and waits,
// by reading /proc, until it holds a socket of proto on that port that a
// client on 127.0.0.1 reaches. Its failures name what the program did
// instead: exited, bound another port, bound an unreachable address.
func startServer(t *T, proto string) (*harness.Process, int, error) {
	port, err := t.Port()
	if err != nil {
		return nil, 0, err
	}
	p, err := t.Start(map[string]string{"port": strconv.Itoa(port)})
	if err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(t.Context(), t.Timeout(ReadyTimeout))
	defer cancel()
	s, socks, err := harness.WaitBound(ctx, p.Pid(), proto, port, p.Done())
	if err == nil {
		t.Note("the program holds %s (state %s)", s, s.State)
		return p, port, nil
	}
	what := "bind UDP port"
	if proto == "tcp" {
		what = "listen on TCP port"
	}
	if t.Context().Err() != nil {
		return nil, 0, t.Context().Err()
	}
	held := describeSockets(socks, proto)
	switch {
	case errors.Is(err, harness.ErrExited):
		_ = p.WaitOutput(t.Context())
		if portStolen(p, port) {
			return nil, 0, fmt.Errorf("%w: port %d", ErrPortTaken, port)
		}
		f := Failf("the program ended before it could %s %d (%s)", what, port, p.Exit())
		f.Hint = "A server runs until it is stopped: check the traceback, and read the port from the command line (int(sys.argv[1]))."
		return nil, 0, f
	case held != "" && strings.Contains(held, fmt.Sprintf(":%d", port)):
		f := Failf("the program %s, which a client connecting to 127.0.0.1:%d cannot reach", held, port)
		f.Hint = `Bind every address ("" or "0.0.0.0") or 127.0.0.1, not another interface's address.`
		return nil, 0, f.WithExpectedSocket(proto, port, held)
	case held != "":
		f := Failf("the program %s, but the grader asked for port %d", held, port)
		f.Hint = "The port is a command-line argument: use int(sys.argv[1]) instead of a fixed number."
		return nil, 0, f.WithExpectedSocket(proto, port, held)
	default:
		f := Failf("the program did not %s %d within %s (it holds no %s socket)", what, port, ReadyTimeout, strings.ToUpper(proto))
		f.Hint = "Create the socket, bind it to (\"\", port) with the port from sys.argv[1], before anything else that waits."
		return nil, 0, f
	}
}

// portStolen reports whether a program that ended failed to bind because
// another process (not one of the grading) holds the port netgrade gave it.
func portStolen(p *harness.Process, port int) bool {
	said := false
	for _, l := range p.Output().Lines() {
		if strings.Contains(l.Text, "Address already in use") || strings.Contains(l.Text, "address already in use") {
			said = true
		}
	}
	return said && !harness.PortFree(port)
}

// WithExpectedSocket fills expected/actual with the socket asked for and
// the sockets held.
func (f *Failure) WithExpectedSocket(proto string, port int, held string) *Failure {
	return f.Want(fmt.Sprintf("%s *:%d", strings.ToUpper(proto), port), strings.TrimPrefix(held, "bound "))
}

// describeSockets says which sockets of proto a program holds, e.g.
// "bound UDP 0.0.0.0:1234".
func describeSockets(socks []harness.Socket, proto string) string {
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

// waitLine waits up to timeout for a line printed from index from on that
// satisfies match. It returns the line, or ok false when the deadline passed
// or the program's output ended first.
func waitLine(t *T, p *harness.Process, from int, timeout time.Duration, match func(string) bool) (harness.Line, int, bool) {
	ctx, cancel := context.WithTimeout(t.Context(), t.Timeout(timeout))
	defer cancel()
	l, i, err := p.Output().Wait(ctx, from, func(l harness.Line) bool { return match(l.Text) })
	return l, i, err == nil
}

// printedSince lists the lines printed from index from on, for a failure
// message, or "(nothing)".
func printedSince(p *harness.Process, from int) string {
	var b strings.Builder
	for _, l := range p.Output().Since(from) {
		fmt.Fprintf(&b, "%s\n", l.Text)
	}
	if b.Len() == 0 {
		return "(nothing)"
	}
	return strings.TrimRight(b.String(), "\n")
}

// stillRunning returns a failure when the program has ended although it
// should serve on.
func stillRunning(t *T, p *harness.Process, after string) error {
	if p.Running() {
		return nil
	}
	_ = p.WaitOutput(t.Context())
	return Failf("the program ended %s (%s); a server must keep serving until it is stopped", after, p.Exit()).
		WithHint("Wrap the receive-and-answer code in a `while True:` loop.")
}
