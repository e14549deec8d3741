package sockets

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/checks"
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
		Needs: checks.StartsID,
	}
	e.Checks = []*graders.Check{
		checks.Starts("tcp", "Read the port with int(sys.argv[1]), then bind((\"\", port)) and listen()."),
		{
			ID: "replies", Title: "answers a client's message with a text message",
			Requirement: "A client that connects and sends `" + tcpServerProbe + "` gets a non-empty reply on the same connection, without having to close its side first (the reply's encoding is tcp-server/utf8's to judge).",
			Category:    report.Protocol, Points: 3,
			Hint: "After recv(), send the reply on the connection socket: conn.sendall(\"...\".encode('utf-8')). The reply is part of the program, not typed by an operator.",
			Run:  tcpServerCheckReplies,
		},
		{
			ID: "prints-message", Title: "prints the message it received",
			Requirement: "The text of the client's message (`" + tcpServerProbe + "`) is printed as text, not as a bytes object (when it is printed is tcp-server/replies' concern: a message printed only once the client has shut down its side is accepted).",
			Category:    report.Format, Points: 2,
			Hint: "Print data.decode('utf-8') as soon as recv() returns it.",
			Run:  tcpServerCheckPrintsMessage,
		},
		{
			ID: "utf8", Title: "decodes a non-ASCII message as UTF-8",
			Requirement: "A message holding the UTF-8 bytes of `" + probe.UTF8Text + "` (7 characters, 10 bytes) is not printed in another decoding (the text, or the bytes object that prints-message judges, are accepted); the reply, when there is one, is UTF-8 text.",
			Category:    report.Encoding, Points: 1,
			Hint: "Decode what recv() returns with .decode('utf-8') and encode the reply with .encode('utf-8').",
			Run:  tcpServerCheckUTF8,
		},
		{
			ID: "next-client", Title: "serves a second and a third client after the first one closed",
			Requirement: "Three clients, one after the other, each connect, send a message, get a reply and close; every one is answered (whatever the reply, even one sent only once the client shut down its side) and the server still runs.",
			Category:    report.Lifecycle, Points: 2,
			Hint: "Call accept() in a `while True:` loop; in the loop that reads one client, stop when recv() returns b'' (the client has closed) and close that connection before accepting the next.",
			Run:  tcpServerCheckNextClient,
		},
		checks.SilentClient("recv() returns b'' when the client has closed: stop reading that client (break), close its socket, and go back to accept().", probe.LineTimeout,
			func(t *graders.T, p *harness.Process, port int) (*probe.TCPConn, error) {
				c, _, err := tcpServerAskLenient(t, p, port, "the next client", "are you still there?")
				return c, err
			}),
		checks.Usage(e.Usage, "(the same usage as the UDP server)"),
	}
	return graders.NewExercise(e)
}

func tcpServerCheckReplies(t *graders.T) error {
	p, port, err := probe.StartServer(t, "tcp")
	if err != nil {
		return err
	}
	_, _, err = probe.Ask(t, p, port, "the client", tcpServerProbe)
	return err
}

// tcpServerAskLenient connects as a new client, sends msg and waits for a
// reply, any reply: for the checks that judge serving clients, not what
// the reply says nor whether it came before the client shut down its
// sending side (tcp-server/replies judges both).
func tcpServerAskLenient(t *graders.T, p *harness.Process, port int, who, msg string) (*probe.TCPConn, []byte, error) {
	c, err := probe.Connect(t, p, nil, port, who)
	if err != nil {
		return nil, nil, err
	}
	if err := probe.SendAs(t, p, c, who, []byte(msg)); err != nil {
		return c, nil, err
	}
	got := func(d []byte, eof bool) bool { return len(d) > 0 || eof }
	reply := c.ReadAnswer(probe.LineTimeout).Data
	if len(reply) == 0 {
		reply, _ = probe.LateReply(t, c, got)
	}
	if len(reply) > 0 {
		return c, reply, nil
	}
	return c, nil, probe.NoReply(t, p, c, who, fmt.Sprintf("a reply to %q", msg), probe.LineTimeout)
}

// tcpServerRunPrinted sends msg as one client and checks what the
// program prints of it (prints-message): the message as text, not as a
// bytes object. A message printed only once the client has shut down its
// side is accepted: tcp-server/replies judges a server that reads until
// the end of the stream.
func tcpServerRunPrinted(t *graders.T, msg string) error {
	p, c, from, err := probe.StartAndSend(t, []byte(msg))
	if err != nil {
		return err
	}
	return tcpServerPrinted(t, p, from, msg, func() bool { return c.CloseWrite() == nil })
}

// tcpServerRunUTF8 sends non-ASCII msg as one client and judges the
// encoding both ways, each where there is something to see: what the
// program prints of the message must not be another decoding of it (the
// text, or the bytes object that prints-message judges, are fine), and a
// reply, if any, must be UTF-8. A program that shows neither fails.
func tcpServerRunUTF8(t *graders.T, msg string) error {
	p, c, from, err := probe.StartAndSend(t, []byte(msg))
	if err != nil {
		return err
	}
	match := func(s string) bool {
		return strings.Contains(s, msg) || strings.Contains(s, probe.BytesRepr([]byte(msg)))
	}
	_, _, printed := probe.WaitLine(t, p, from, probe.LineTimeout, match)
	// The reply is read whole: a greeting may come before the answer.
	reply := c.ReadAnswer(probe.LineTimeout).Data
	if !printed && len(reply) == 0 && p.Running() && c.CloseWrite() == nil {
		// A server that reads until the end of the stream prints and
		// answers only now (replies judges that).
		_, _, printed = probe.WaitLine(t, p, from, probe.LineTimeout, match)
		reply = c.ReadAnswer(probe.LineTimeout).Data
	}
	if len(reply) > 0 && !utf8.Valid(reply) {
		return graders.Failf("the reply is not UTF-8 text").
			Want("a reply encoded as UTF-8", probe.HexBytes(reply)).
			WithHint("Encode the reply with .encode('utf-8').")
	}
	if printed {
		return nil
	}
	_ = p.WaitOutput(t.Context())
	got := probe.PrintedSince(p, from)
	if form, ok := misdecoded(msg, got); ok {
		return graders.Failf("the message's UTF-8 bytes were printed decoded with another encoding: %s", form).
			Want(fmt.Sprintf("a line holding %s", msg), got).
			WithHint("Decode with .decode('utf-8'), the encoding the client used.")
	}
	if len(reply) == 0 {
		return graders.Failf("the program neither printed the message nor answered it: there is no text whose encoding could be judged").
			Want(fmt.Sprintf("%s printed, or a UTF-8 reply", msg), "nothing; printed:\n"+got)
	}
	t.Note("the message was not printed (prints-message judges that); the reply is UTF-8")
	return nil
}

// misdecoded looks in printed for msg's UTF-8 bytes decoded with another
// encoding: read as Latin-1, or with its non-ASCII letters replaced by
// U+FFFD or ? or dropped. It returns the form found.
func misdecoded(msg, printed string) (string, bool) {
	var forms []string
	if mb := probe.Mojibake(msg); mb != "" {
		forms = append(forms, mb)
	}
	for _, repl := range []string{"\uFFFD", "?", ""} {
		var b strings.Builder
		changed := false
		for _, r := range msg {
			if r < utf8.RuneSelf {
				b.WriteRune(r)
				continue
			}
			changed = true
			if repl == "\uFFFD" {
				// errors="replace" gives one U+FFFD per byte that does not decode.
				b.WriteString(strings.Repeat(repl, utf8.RuneLen(r)))
			} else {
				b.WriteString(repl)
			}
		}
		if changed {
			forms = append(forms, b.String())
		}
	}
	for _, f := range forms {
		if strings.Contains(printed, f) {
			return f, true
		}
	}
	return "", false
}

// tcpServerPrinted waits for a line holding msg (or its bytes object),
// printed from index from on. late, when not nil, is called once the wait
// failed, to give the program the end of the client's stream: a program
// that prints only then is accepted. A bytes object fails; when no line
// comes it says what was printed instead.
func tcpServerPrinted(t *graders.T, p *harness.Process, from int, msg string, late func() bool) error {
	want := fmt.Sprintf("a line holding %s", msg)
	repr := probe.BytesRepr([]byte(msg))
	match := func(s string) bool { return strings.Contains(s, msg) || strings.Contains(s, repr) }
	l, _, ok := probe.WaitLine(t, p, from, probe.LineTimeout, match)
	if !ok && late != nil && p.Running() && late() {
		if l, _, ok = probe.WaitLine(t, p, from, probe.LineTimeout, match); ok {
			t.Note("the message was printed only once the client had shut down its sending side; this check tolerates that (tcp-server/replies judges it)")
		}
	}
	if ok {
		return tcpServerJudgePrinted(msg, l.Text)
	}
	if !p.Running() {
		_ = p.WaitOutput(t.Context())
		return graders.Failf("the program ended (%s) without printing the message", p.Exit()).
			Want(want, probe.PrintedSince(p, from))
	}
	return graders.Failf("the message %q was not printed within %s", msg, t.Timeout(probe.LineTimeout)).
		Want(want, probe.PrintedSince(p, from)).
		WithHint("Print the received message as soon as recv() returns it.")
}

// tcpServerJudgePrinted judges the line printed for msg: text, not a
// bytes object.
func tcpServerJudgePrinted(msg, line string) error {
	repr := probe.BytesRepr([]byte(msg))
	if strings.Contains(line, repr) {
		return graders.Failf("the message is printed as a bytes object (%s), not as text", repr).
			Want(fmt.Sprintf("a line holding %s", msg), line).
			WithHint("Decode the bytes before printing: data.decode('utf-8').")
	}
	return nil
}

func tcpServerCheckNextClient(t *graders.T) error {
	p, port, err := probe.StartServer(t, "tcp")
	if err != nil {
		return err
	}
	closedAt := -1
	for i, msg := range tcpServerClients {
		who := probe.Ordinals[i]
		c, _, err := tcpServerAskLenient(t, p, port, who, msg)
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

// tcpServerCheckPrintsMessage judges the prints-message check: prints the
// message it received.
func tcpServerCheckPrintsMessage(t *graders.T) error {
	return tcpServerRunPrinted(t, tcpServerProbe)
}

// tcpServerCheckUTF8 judges the utf8 check: decodes a non-ASCII message as
// UTF-8.
func tcpServerCheckUTF8(t *graders.T) error {
	return tcpServerRunUTF8(t, probe.UTF8Text)
}
