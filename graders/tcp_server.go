package graders

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/report"
)

// The messages the tcp-server checks send.
const (
	tcpServerProbe = "hello from netgrade"
	// tcpServerSpinLines is how many empty lines printed after a client
	// closed show a server calling recv() on a closed connection in a loop.
	tcpServerSpinLines = 20
)

// tcpServerClients are the messages of the three clients of next-client.
var tcpServerClients = []string{"first client here", "second client here", "third client here"}

// TCPServer is the tcp-server exercise: `PROG PORT` prints each message a
// client sends, answers it with a text, and accepts the next client once
// the previous one has closed.
func TCPServer() *Exercise {
	e := &Exercise{
		ID:    "tcp-server",
		Title: "TCP server",
		Usage: "tcp-server.py PORT",
		Args:  []string{"{port}"},
	}
	e.Checks = []*Check{
		startsCheck("tcp-server", "tcp", "Read the port with int(sys.argv[1]), then bind((\"\", port)) and listen()."),
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
			Run: func(ctx context.Context, t *T) error {
				return tcpServerCheckPrinted(t, tcpServerProbe)
			},
		},
		{
			ID: "tcp-server/utf8", Title: "decodes a non-ASCII message as UTF-8",
			Requirement: "A message holding the UTF-8 bytes of `" + probeUTF8 + "` (7 characters, 10 bytes) is printed as `" + probeUTF8 + "`; the reply, when there is one, is UTF-8 text.",
			Category:    report.Encoding, Points: 1, Needs: []string{"tcp-server/starts"},
			Hint: "Decode what recv() returns with .decode('utf-8') and encode the reply with .encode('utf-8').",
			Run: func(ctx context.Context, t *T) error {
				return tcpServerCheckPrinted(t, probeUTF8)
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
			Run: func(ctx context.Context, t *T) error {
				return tcpServerSilentClient(t, func(t *T, p *harness.Process, port int) error {
					_, _, err := tcpServerAsk(t, p, port, "the next client", "are you still there?")
					return err
				})
			},
		},
		usageCheck("tcp-server", "(the same usage as the UDP server)", "Check len(sys.argv); if the port is missing, print('Usage: tcp-server.py PORT') and sys.exit(1)."),
	}
	return e
}

// tcpServerOrdinals names the clients of a check in failure messages.
var tcpServerOrdinals = []string{"the first client", "the second client", "the third client"}

// tcpServerRefused explains a connection that could not be made to a
// server that listened at start.
func tcpServerRefused(t *T, p *harness.Process, who string, port int, err error) error {
	if !p.Running() {
		_ = p.WaitOutput(t.Context())
		return Failf("%s could not connect: the program had ended (%s)", who, p.Exit()).
			Want(fmt.Sprintf("a server still listening on TCP port %d", port), "connection refused; printed:\n"+printedSince(p, 0))
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return Failf("%s could not connect: the program no longer listens on TCP port %d", who, port).
			Want(fmt.Sprintf("a server still listening on TCP port %d", port), "connection refused").
			WithHint("Keep the listening socket open and call accept() again for every client: only the connection socket of a client is closed when it leaves.")
	}
	return Failf("%s could not connect to TCP port %d: %v", who, port, err)
}

// tcpServerAsk connects as a new client, sends msg, and waits for the
// reply. When none comes, it returns a failure that says what happened
// instead (see tcpServerNoReply).
func tcpServerAsk(t *T, p *harness.Process, port int, who, msg string) (*tcpConn, []byte, error) {
	c, err := tcpServerConnect(t, p, nil, port, who)
	if err != nil {
		return nil, nil, err
	}
	if err := tcpServerSend(t, p, c, who, []byte(msg)); err != nil {
		return c, nil, err
	}
	reply, ok := c.WaitAny(LineTimeout)
	if ok && len(reply) > 0 {
		return c, reply, nil
	}
	return c, nil, tcpServerNoReply(t, p, c, who, fmt.Sprintf("a reply to %q", msg), LineTimeout)
}

// tcpServerConnect connects a new client (from the loopback address from, nil
// for the default) to a server that listened at start; a refusal is the
// program's failure.
func tcpServerConnect(t *T, p *harness.Process, from net.IP, port int, who string) (*tcpConn, error) {
	c, err := dialTCPFrom(t, from, port)
	if err != nil {
		if t.Context().Err() != nil {
			return nil, t.Context().Err()
		}
		return nil, tcpServerRefused(t, p, who, port, err)
	}
	return c, nil
}

// startAndSend starts the server and connects one client that sends data:
// the preamble of the checks that judge what the program prints for a
// client. from is the output position before the client connected.
func startAndSend(t *T, data []byte) (p *harness.Process, c *tcpConn, from int, err error) {
	p, port, err := startServer(t, "tcp")
	if err != nil {
		return nil, nil, 0, err
	}
	from = p.Output().Len()
	if c, err = tcpServerConnect(t, p, nil, port, "the client"); err != nil {
		return p, nil, from, err
	}
	if err := tcpServerSend(t, p, c, "the client", data); err != nil {
		return p, c, from, err
	}
	return p, c, from, nil
}

// tcpServerSend sends data as a client; a broken connection is the program's
// failure.
func tcpServerSend(t *T, p *harness.Process, c *tcpConn, who string, data []byte) error {
	if err := c.Send(data); err != nil {
		if t.Context().Err() != nil {
			return t.Context().Err()
		}
		return Failf("%s could not send its message: %v", who, err).
			Want("the server reads the message", "the connection was broken (the program "+p.Exit().String()+")")
	}
	return nil
}

// tcpServerNoReply explains why a client that waited for a reply got none: the
// program ended, closed without answering, answered only once the client
// shut down its sending side (it reads until the end of the stream), or
// said nothing at all.
func tcpServerNoReply(t *T, p *harness.Process, c *tcpConn, who, want string, waited time.Duration) error {
	if t.Context().Err() != nil {
		return t.Context().Err()
	}
	if c.EOF() {
		if !p.Running() || tcpServerWaitExit(t, p) {
			_ = p.WaitOutput(t.Context())
			return Failf("%s got no reply: the program ended (%s) after receiving its message", who, p.Exit()).
				Want(want, "the connection closed without a reply; printed:\n"+printedSince(p, 0))
		}
		return Failf("%s got no reply: the server closed the connection without answering", who).
			Want(want, "the connection closed without a reply")
	}
	// Maybe the server reads until the end of the stream before answering:
	// shut down the client's sending side and give it another chance, to
	// say so.
	if err := c.CloseWrite(); err == nil {
		if late, ok := c.WaitAny(LineTimeout); ok && len(late) > 0 {
			return Failf("%s got a reply only after it shut down its sending side: the server waits for the end of the stream before answering", who).
				Want(fmt.Sprintf("%s while the client waits with its connection open (within %s)", want, t.Timeout(waited)), "a reply after the client's shutdown: "+Printable(late)).
				WithHint("The course's client sends its message and waits for the answer without closing: answer after one recv(), do not loop until recv() returns b'' before replying.")
		}
	}
	if !p.Running() {
		_ = p.WaitOutput(t.Context())
		return Failf("%s got no reply: the program ended (%s)", who, p.Exit()).
			Want(want, "nothing; printed:\n"+printedSince(p, 0))
	}
	return Failf("%s got no reply within %s", who, t.Timeout(waited).Round(time.Millisecond)).
		Want(want, "nothing, and the connection stayed open")
}

// tcpServerWaitExit reports whether the program ends within a short while: a
// server that crashed while a client was connected closes that connection
// just before its exit is seen.
func tcpServerWaitExit(t *T, p *harness.Process) bool {
	ctx, cancel := context.WithTimeout(t.Context(), t.Timeout(ExitTimeout)/3)
	defer cancel()
	_, err := p.Wait(ctx)
	return err == nil
}

func tcpServerCheckReplies(ctx context.Context, t *T) error {
	p, port, err := startServer(t, "tcp")
	if err != nil {
		return err
	}
	_, reply, err := tcpServerAsk(t, p, port, "the client", tcpServerProbe)
	if err != nil {
		return err
	}
	if !utf8.Valid(reply) {
		return Failf("the reply is not text: its bytes are not valid UTF-8").
			Want("a text message encoded as UTF-8", hexBytes(reply)).
			WithHint("Encode the reply with .encode('utf-8').")
	}
	return nil
}

// tcpServerCheckPrinted sends msg as one client and checks that the
// program prints it, decoded.
func tcpServerCheckPrinted(t *T, msg string) error {
	p, c, from, err := startAndSend(t, []byte(msg))
	if err != nil {
		return err
	}
	if err := tcpServerPrinted(t, p, from, msg, func() bool { return c.CloseWrite() == nil }); err != nil {
		return err
	}
	// The other way: a reply, if the server sends one, must be UTF-8 text.
	if reply, _ := c.WaitAny(LineTimeout); len(reply) > 0 && !utf8.Valid(reply) {
		return Failf("the message was printed, but the reply is not UTF-8 text").
			Want("a reply encoded as UTF-8", hexBytes(reply)).
			WithHint("Encode the reply with .encode('utf-8').")
	}
	return nil
}

// tcpServerPrinted waits for a line holding msg, printed from index from on.
// When none comes it says what was printed instead: the bytes object, a
// wrong decoding, or nothing. late, when not nil, is called once the wait
// failed to give the program the end of the client's stream, to tell a
// program that prints only then.
func tcpServerPrinted(t *T, p *harness.Process, from int, msg string, late func() bool) error {
	want := fmt.Sprintf("a line holding %s", msg)
	repr := tcpServerBytesRepr([]byte(msg))
	match := func(s string) bool { return strings.Contains(s, msg) || strings.Contains(s, repr) }
	l, _, ok := waitLine(t, p, from, LineTimeout, match)
	if !ok && late != nil && p.Running() && late() {
		if l, _, ok := waitLine(t, p, from, LineTimeout, match); ok {
			return Failf("the message was printed only after the client shut down its sending side").
				Want(want+", while the client waits for its answer", l.Text).
				WithHint("Print each message as recv() returns it, not after a loop that reads until the client has closed.")
		}
	}
	switch {
	case ok && strings.Contains(l.Text, repr):
		return Failf("the message is printed as a bytes object (%s), not as text", repr).
			Want(want, l.Text).
			WithHint("Decode the bytes before printing: data.decode('utf-8').")
	case ok:
		return nil
	case !p.Running():
		_ = p.WaitOutput(t.Context())
		return Failf("the program ended (%s) without printing the message", p.Exit()).
			Want(want, printedSince(p, from))
	}
	got := printedSince(p, from)
	if mb := tcpServerMojibake(msg); mb != "" && strings.Contains(got, mb) {
		return Failf("the message's UTF-8 bytes were decoded with another encoding (Latin-1): %s", mb).
			Want(want, got).
			WithHint("Decode with .decode('utf-8'), the encoding the client used.")
	}
	return Failf("the message %q was not printed within %s", msg, t.Timeout(LineTimeout)).
		Want(want, got).
		WithHint("Print the received message as soon as recv() returns it.")
}

// tcpServerMojibake returns msg's UTF-8 bytes read as Latin-1, as a program that
// decodes with the wrong encoding prints them, or "" for ASCII text.
func tcpServerMojibake(msg string) string {
	b := []byte(msg)
	rs := make([]rune, len(b))
	ascii := true
	for i, c := range b {
		rs[i] = rune(c)
		ascii = ascii && c < 0x80
	}
	if ascii {
		return ""
	}
	return string(rs)
}

// tcpServerBytesRepr returns Python's repr() of a bytes object: b'...' with
// non-ASCII and control bytes as escapes, as print(data) shows it.
func tcpServerBytesRepr(b []byte) string {
	quote := byte('\'')
	if strings.IndexByte(string(b), '\'') >= 0 && strings.IndexByte(string(b), '"') < 0 {
		quote = '"'
	}
	var sb strings.Builder
	sb.WriteString("b")
	sb.WriteByte(quote)
	for _, c := range b {
		switch {
		case c == quote || c == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c == '\t':
			sb.WriteString(`\t`)
		case c == '\n':
			sb.WriteString(`\n`)
		case c == '\r':
			sb.WriteString(`\r`)
		case c < ' ' || c >= 0x7f:
			fmt.Fprintf(&sb, `\x%02x`, c)
		default:
			sb.WriteByte(c)
		}
	}
	sb.WriteByte(quote)
	return sb.String()
}

func tcpServerCheckNextClient(ctx context.Context, t *T) error {
	p, port, err := startServer(t, "tcp")
	if err != nil {
		return err
	}
	closedAt := -1
	for i, msg := range tcpServerClients {
		who := tcpServerOrdinals[i]
		c, _, err := tcpServerAsk(t, p, port, who, msg)
		if err != nil {
			var f *Failure
			if i > 0 && errors.As(err, &f) {
				if n := tcpServerEmptyLines(p, closedAt); n >= tcpServerSpinLines {
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
	return stillRunning(t, p, "after three clients")
}

// tcpServerEmptyLines counts the empty lines printed from index from on.
func tcpServerEmptyLines(p *harness.Process, from int) int {
	if from < 0 {
		return 0
	}
	n := 0
	for _, l := range p.Output().Since(from) {
		if strings.TrimSpace(l.Text) == "" && !l.Mark {
			n++
		}
	}
	return n
}

// tcpServerSilentClient connects as a client that closes at once without
// sending, then lets next play the next client, and checks the server
// still runs. It serves every TCP server exercise.
func tcpServerSilentClient(t *T, next func(t *T, p *harness.Process, port int) error) error {
	p, port, err := startServer(t, "tcp")
	if err != nil {
		return err
	}
	silent, err := tcpServerConnect(t, p, nil, port, "the silent client")
	if err != nil {
		return err
	}
	t.Note("this client closes without sending anything")
	silent.Close()
	closedAt := p.Output().Len()
	if err := next(t, p, port); err != nil {
		var f *Failure
		if errors.As(err, &f) {
			f.Message = "after a client that connected and closed without sending, " + f.Message
			spun := tcpServerEmptyLines(p, closedAt)
			if spun >= tcpServerSpinLines {
				f.Message += fmt.Sprintf("; the program printed at least %d empty lines: it keeps calling recv() on the closed connection", spun)
			}
			if f.Hint == "" || spun >= tcpServerSpinLines {
				f.Hint = "recv() returns b'' when the client has closed without sending: treat it as the end of that client (if not data: break), close its socket, and accept() the next one."
			}
		}
		return err
	}
	return stillRunning(t, p, "after a client that closed without sending")
}
