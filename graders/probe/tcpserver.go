package probe

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/harness"
)

// SpinLines is how many empty lines printed after a client closed show a
// server calling recv() on a closed connection in a loop.
const SpinLines = 20

// SilentDrain is how long the silent client, once it has shut down its
// sending side, keeps reading until the server closes the connection. A
// server that greets its clients has sent bytes the silent client never
// asked for: a socket closed with unread bytes is reset (RST) instead of
// closed (FIN), and whether the greeting arrived before the close would
// decide whether the server's recv() returns empty bytes or raises
// ConnectionResetError. Reading until the server closes (or this window
// ends) makes the close a FIN every time, so the verdict never depends on
// that race.
const SilentDrain = time.Second

// Ordinals names the clients of a check in failure messages.
var Ordinals = []string{"the first client", "the second client", "the third client"}

// Refused explains a connection that could not be made to a
// server that listened at start.
func Refused(t *graders.T, p *harness.Process, who string, port int, err error) error {
	if !p.Running() {
		_ = p.WaitOutput(t.Context())
		return graders.Failf("%s could not connect: the program had ended (%s)", who, p.Exit()).
			Want(fmt.Sprintf("a server still listening on TCP port %d", port), "connection refused; printed:\n"+PrintedSince(p, 0))
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return graders.Failf("%s could not connect: the program no longer listens on TCP port %d", who, port).
			Want(fmt.Sprintf("a server still listening on TCP port %d", port), "connection refused").
			WithHint("Keep the listening socket open and call accept() again for every client: only the connection socket of a client is closed when it leaves.")
	}
	return graders.Failf("%s could not connect to TCP port %d: %v", who, port, err)
}

// Ask connects as a new client, sends msg, and reads the
// reply whole (ReadAnswer: a greeting and the answer are one reply). When none comes, it returns a failure that says what happened
// instead (see NoReply).
func Ask(t *graders.T, p *harness.Process, port int, who, msg string) (*TCPConn, []byte, error) {
	c, err := Connect(t, p, nil, port, who)
	if err != nil {
		return nil, nil, err
	}
	if err := SendAs(t, p, c, who, []byte(msg)); err != nil {
		return c, nil, err
	}
	if r := c.ReadAnswer(LineTimeout); len(r.Data) > 0 {
		return c, r.Data, nil
	}
	return c, nil, NoReply(t, p, c, who, fmt.Sprintf("a reply to %q", msg), LineTimeout)
}

// Connect connects a new client (from the loopback address from, nil
// for the default) to a server that listened at start; a refusal is the
// program's failure.
func Connect(t *graders.T, p *harness.Process, from net.IP, port int, who string) (*TCPConn, error) {
	c, err := DialTCPFrom(t, from, port)
	if err != nil {
		if t.Context().Err() != nil {
			return nil, t.Context().Err()
		}
		return nil, Refused(t, p, who, port, err)
	}
	return c, nil
}

// StartAndSend starts the server and connects one client that sends data:
// the preamble of the checks that judge what the program prints for a
// client. from is the output position before the client connected.
func StartAndSend(t *graders.T, data []byte) (p *harness.Process, c *TCPConn, from int, err error) {
	p, port, err := StartServer(t, "tcp")
	if err != nil {
		return nil, nil, 0, err
	}
	from = p.Output().Len()
	if c, err = Connect(t, p, nil, port, "the client"); err != nil {
		return p, nil, from, err
	}
	if err := SendAs(t, p, c, "the client", data); err != nil {
		return p, c, from, err
	}
	return p, c, from, nil
}

// SendAs sends data as a client; a broken connection is the program's
// failure.
func SendAs(t *graders.T, p *harness.Process, c *TCPConn, who string, data []byte) error {
	if err := c.Send(data); err != nil {
		if t.Context().Err() != nil {
			return t.Context().Err()
		}
		return graders.Failf("%s could not send its message: %v", who, err).
			Want("the server reads the message", "the connection was broken (the program "+p.Exit().String()+")")
	}
	return nil
}

// NoReply explains why a client that waited for a reply got none: the
// program ended, closed without answering, answered only once the client
// shut down its sending side (it reads until the end of the stream), or
// said nothing at all.
func NoReply(t *graders.T, p *harness.Process, c *TCPConn, who, want string, waited time.Duration) error {
	if t.Context().Err() != nil {
		return t.Context().Err()
	}
	if c.EOF() {
		if !p.Running() || waitExit(t, p) {
			_ = p.WaitOutput(t.Context())
			return graders.Failf("%s got no reply: the program ended (%s) after receiving its message", who, p.Exit()).
				Want(want, "the connection closed without a reply; printed:\n"+PrintedSince(p, 0))
		}
		return graders.Failf("%s got no reply: the server closed the connection without answering", who).
			Want(want, "the connection closed without a reply")
	}
	// Maybe the server reads until the end of the stream before answering:
	// shut down the client's sending side and give it another chance, to
	// say so (unless a tolerant check already gave it that chance).
	if c.WriteClosed() {
		return graders.Failf("%s got no reply, not even once it had shut down its sending side", who).
			Want(want, "nothing, and the connection stayed open")
	}
	if err := c.CloseWrite(); err == nil {
		if late, ok := c.WaitAny(LineTimeout); ok && len(late) > 0 {
			return graders.Failf("%s got a reply only after it shut down its sending side: the server waits for the end of the stream before answering", who).
				Want(fmt.Sprintf("%s while the client waits with its connection open (within %s)", want, t.Timeout(waited)), "a reply after the client's shutdown: "+graders.Printable(late)).
				WithHint("The course's client sends its message and waits for the answer without closing: answer after one recv(), do not loop until recv() returns b'' before replying.")
		}
	}
	if !p.Running() {
		_ = p.WaitOutput(t.Context())
		return graders.Failf("%s got no reply: the program ended (%s)", who, p.Exit()).
			Want(want, "nothing; printed:\n"+PrintedSince(p, 0))
	}
	return graders.Failf("%s got no reply within %s", who, t.Timeout(waited).Round(time.Millisecond)).
		Want(want, "nothing, and the connection stayed open")
}

// waitExit reports whether the program ends within a short while: a
// server that crashed while a client was connected closes that connection
// just before its exit is seen.
func waitExit(t *graders.T, p *harness.Process) bool {
	ctx, cancel := context.WithTimeout(t.Context(), t.Timeout(ExitTimeout)/3)
	defer cancel()
	_, err := p.Wait(ctx)
	return err == nil
}

// Mojibake returns msg's UTF-8 bytes read as Latin-1, as a program that
// decodes with the wrong encoding prints them, or "" for ASCII text.
func Mojibake(msg string) string {
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

// BytesRepr returns Python's repr() of a bytes object: b'...' with
// non-ASCII and control bytes as escapes, as print(data) shows it.
func BytesRepr(b []byte) string {
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

// EmptyLines counts the empty lines printed from index from on.
func EmptyLines(p *harness.Process, from int) int {
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

// LateReply gives a server that answers only once its client has shut
// down its sending side (it reads until the end of the stream) the chance
// to answer: for the checks that tolerate it, because another check judges
// answering while the client waits. When c got nothing that satisfies done,
// is still open and still has its sending side, it shuts that side down
// and waits up to LineTimeout more. It returns what c received and whether
// done was met.
func LateReply(t *graders.T, c *TCPConn, done func(data []byte, eof bool) bool) ([]byte, bool) {
	data := c.Received()
	if done(data, c.EOF()) {
		return data, true
	}
	if c.EOF() || c.WriteClosed() || t.Context().Err() != nil {
		return data, false
	}
	if err := c.CloseWrite(); err != nil {
		return data, false
	}
	data, ok := c.WaitFor(LineTimeout, done)
	if ok {
		t.Note("the reply came only once the client had shut down its sending side; this check tolerates that (another judges answering while the client waits)")
	}
	return data, ok
}

// HexBytes shows bytes as two-digit hexadecimal numbers separated by
// spaces, at most 40 of them.
func HexBytes(b []byte) string {
	s := hex.EncodeToString(b)
	var parts []string
	for i := 0; i < len(s); i += 2 {
		parts = append(parts, s[i:i+2])
	}
	if len(parts) > 40 {
		parts = append(parts[:40], "…")
	}
	return strings.Join(parts, " ")
}

// NextClient plays the client a silent-client check sends after the
// silent one (or after an ordinary one, in the control run) to the server
// p listening on port, and returns its connection once it was answered.
type NextClient func(t *graders.T, p *harness.Process, port int) (*TCPConn, error)
