package sockets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/report"
)

// tcpServerProbe is the message the tcp-server checks send.
const tcpServerProbe = "hello from netgrade"

// tcpServerClients are the messages of the three clients of next-client.
var tcpServerClients = []string{"first client here", "second client here", "third client here"}

// TCPServer is the tcp-server exercise: `PROG PORT` prints each message a
// client sends, answers it with a text, and accepts the next client once
// the previous one has closed.
func TCPServer() *graders.Exercise {
	e := &graders.Exercise{
		ID:    "tcp-server",
		Title: "TCP server",
		Usage: "tcp-server.py PORT",
		Args:  []string{"{port}"},
	}
	e.Checks = []*graders.Check{
		probe.StartsCheck("tcp-server", "tcp", "Read the port with int(sys.argv[1]), then bind((\"\", port)) and listen()."),
		{
			ID: "tcp-server/replies", Title: "answers a client's message with a text message",
			Requirement: "A client that connects and sends `" + tcpServerProbe + "` gets a non-empty text reply (UTF-8) on the same connection, without having to close its side first.",
			Category:    report.Protocol, Points: 3, Needs: []string{"tcp-server/starts"},
			Hint: "After recv(), send the reply on the connection socket: conn.sendall(\"...\".encode('utf-8')). The reply is part of the program, not typed by an operator.",
			Run:  tcpServerCheckReplies,
		},
		{
			ID: "tcp-server/prints-message", Title: "prints the message it received",
			Requirement: "The text of the client's message (`" + tcpServerProbe + "`) is printed as text, not as a bytes object.",
			Category:    report.Format, Points: 2, Needs: []string{"tcp-server/starts"},
			Hint: "Print data.decode('utf-8') as soon as recv() returns it.",
			Run: func(ctx context.Context, t *graders.T) error {
				return tcpServerCheckPrinted(t, tcpServerProbe)
			},
		},
		{
			ID: "tcp-server/utf8", Title: "decodes a non-ASCII message as UTF-8",
			Requirement: "A message holding the UTF-8 bytes of `" + probe.UTF8Text + "` (7 characters, 10 bytes) is printed as `" + probe.UTF8Text + "`; the reply, when there is one, is UTF-8 text.",
			Category:    report.Encoding, Points: 1, Needs: []string{"tcp-server/starts"},
			Hint: "Decode what recv() returns with .decode('utf-8') and encode the reply with .encode('utf-8').",
			Run: func(ctx context.Context, t *graders.T) error {
				return tcpServerCheckPrinted(t, probe.UTF8Text)
			},
		},
		{
			ID: "tcp-server/next-client", Title: "serves a second and a third client after the first one closed",
			Requirement: "Three clients, one after the other, each connect, send a message, get a reply and close; every one is answered and the server still runs.",
			Category:    report.Lifecycle, Points: 2, Needs: []string{"tcp-server/starts"},
			Hint: "Call accept() in a `while True:` loop; in the loop that reads one client, stop when recv() returns b'' (the client has closed) and close that connection before accepting the next.",
			Run:  tcpServerCheckNextClient,
		},
		{
			ID: "tcp-server/silent-client", Title: "survives a client that connects and closes without sending",
			Requirement: "After a client connects and closes at once without sending anything, the server still runs and answers the next client.",
			Category:    report.Robustness, Points: 1, Needs: []string{"tcp-server/starts"},
			Hint: "recv() returns b'' when the client has closed: stop reading that client (break), close its socket, and go back to accept().",
			Run: func(ctx context.Context, t *graders.T) error {
				return probe.SilentClient(t, func(t *graders.T, p *harness.Process, port int) error {
					_, _, err := probe.Ask(t, p, port, "the next client", "are you still there?")
					return err
				})
			},
		},
		probe.UsageCheck("tcp-server", "(the same usage as the UDP server)", "Check len(sys.argv); if the port is missing, print('Usage: tcp-server.py PORT') and sys.exit(1)."),
	}
	return e
}

func tcpServerCheckReplies(ctx context.Context, t *graders.T) error {
	p, port, err := probe.StartServer(t, "tcp")
	if err != nil {
		return err
	}
	_, reply, err := probe.Ask(t, p, port, "the client", tcpServerProbe)
	if err != nil {
		return err
	}
	if !utf8.Valid(reply) {
		return graders.Failf("the reply is not text: its bytes are not valid UTF-8").
			Want("a text message encoded as UTF-8", probe.HexBytes(reply)).
			WithHint("Encode the reply with .encode('utf-8').")
	}
	return nil
}

// tcpServerCheckPrinted sends msg as one client and checks that the
// program prints it, decoded.
func tcpServerCheckPrinted(t *graders.T, msg string) error {
	p, c, from, err := probe.StartAndSend(t, []byte(msg))
	if err != nil {
		return err
	}
	if err := tcpServerPrinted(t, p, from, msg, func() bool { return c.CloseWrite() == nil }); err != nil {
		return err
	}
	// The other way: a reply, if the server sends one, must be UTF-8 text.
	if reply, _ := c.WaitAny(probe.LineTimeout); len(reply) > 0 && !utf8.Valid(reply) {
		return graders.Failf("the message was printed, but the reply is not UTF-8 text").
			Want("a reply encoded as UTF-8", probe.HexBytes(reply)).
			WithHint("Encode the reply with .encode('utf-8').")
	}
	return nil
}

// tcpServerPrinted waits for a line holding msg, printed from index from on.
// When none comes it says what was printed instead: the bytes object, a
// wrong decoding, or nothing. late, when not nil, is called once the wait
// failed to give the program the end of the client's stream, to tell a
// program that prints only then.
func tcpServerPrinted(t *graders.T, p *harness.Process, from int, msg string, late func() bool) error {
	want := fmt.Sprintf("a line holding %s", msg)
	repr := probe.BytesRepr([]byte(msg))
	match := func(s string) bool { return strings.Contains(s, msg) || strings.Contains(s, repr) }
	l, _, ok := probe.WaitLine(t, p, from, probe.LineTimeout, match)
	if !ok && late != nil && p.Running() && late() {
		if l, _, ok := probe.WaitLine(t, p, from, probe.LineTimeout, match); ok {
			return graders.Failf("the message was printed only after the client shut down its sending side").
				Want(want+", while the client waits for its answer", l.Text).
				WithHint("Print each message as recv() returns it, not after a loop that reads until the client has closed.")
		}
	}
	switch {
	case ok && strings.Contains(l.Text, repr):
		return graders.Failf("the message is printed as a bytes object (%s), not as text", repr).
			Want(want, l.Text).
			WithHint("Decode the bytes before printing: data.decode('utf-8').")
	case ok:
		return nil
	case !p.Running():
		_ = p.WaitOutput(t.Context())
		return graders.Failf("the program ended (%s) without printing the message", p.Exit()).
			Want(want, probe.PrintedSince(p, from))
	}
	got := probe.PrintedSince(p, from)
	if mb := probe.Mojibake(msg); mb != "" && strings.Contains(got, mb) {
		return graders.Failf("the message's UTF-8 bytes were decoded with another encoding (Latin-1): %s", mb).
			Want(want, got).
			WithHint("Decode with .decode('utf-8'), the encoding the client used.")
	}
	return graders.Failf("the message %q was not printed within %s", msg, t.Timeout(probe.LineTimeout)).
		Want(want, got).
		WithHint("Print the received message as soon as recv() returns it.")
}

func tcpServerCheckNextClient(ctx context.Context, t *graders.T) error {
	p, port, err := probe.StartServer(t, "tcp")
	if err != nil {
		return err
	}
	closedAt := -1
	for i, msg := range tcpServerClients {
		who := probe.Ordinals[i]
		c, _, err := probe.Ask(t, p, port, who, msg)
		if err != nil {
			var f *graders.Failure
			if i > 0 && errors.As(err, &f) {
				if n := probe.EmptyLines(p, closedAt); n >= probe.SpinLines {
					f.Message += fmt.Sprintf("; meanwhile the program printed at least %d empty lines since the previous client closed: it keeps calling recv() on that closed connection", n)
					f.Hint = "recv() returns b'' once the client has closed: leave the client's loop then (if not data: break) and accept() the next client."
				} else if f.Hint == "" {
					f.Hint = "After a client closes, the server must accept() the next one: accept() belongs inside a `while True:` loop, and the loop reading one client ends when recv() returns b''."
				}
			}
			return err
		}
		closedAt = p.Output().Len()
		c.Close()
	}
	return probe.StillRunning(t, p, "after three clients")
}
