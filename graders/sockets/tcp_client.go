package sockets

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/report"
)

// The messages and replies of the tcp-client checks. The replies are ones
// no client prints by chance.
const (
	tcpClientMessage   = "hello from the client"
	tcpClientReply     = "netgrade got your message, ticket 4217"
	tcpClientReplyUTF8 = "xin chào, các bạn"
)

// TCPClient is the tcp-client exercise: `PROG HOST PORT MESSAGE` connects,
// sends MESSAGE, prints the server's reply, closes and exits.
func TCPClient() *graders.Exercise {
	e := &graders.Exercise{
		ID:    "tcp-client",
		Title: "TCP client",
		Usage: "tcp-client.py HOST PORT MESSAGE",
		Args:  []string{"{host}", "{port}", "{message}"},
	}
	e.Checks = []*graders.Check{
		{
			ID: "sends-message", Title: "connects and sends the message",
			Requirement: "`PROG 127.0.0.1 PORT \"" + tcpClientMessage + "\"` connects to 127.0.0.1:PORT and sends exactly the message (a final newline is tolerated).",
			Category:    report.Protocol, Points: 3,
			Hint: "Take HOST, PORT and MESSAGE from sys.argv[1], int(sys.argv[2]) and sys.argv[3]; connect((host, port)), then sendall(message.encode('utf-8')).",
			Run:  tcpClientCheckSendsMessage,
		},
		{
			ID: "prints-reply", Title: "prints the server's reply",
			Requirement: "The server answers `" + tcpClientReply + "` (once the message came, or after " + probe.LineTimeout.String() + " without one) and keeps the connection open; the client prints the reply as text, not as a bytes object. A reply printed only once the server closed is accepted: tcp-client/closes judges a client that waits for the close.",
			Category:    report.Format, Points: 2,
			Hint: "Read the answer once with recv(1024) and print it decoded: print(sock.recv(1024).decode('utf-8')).",
			Run:  tcpClientCheckPrintsReply,
		},
		{
			ID: "utf8", Title: "sends and prints non-ASCII text as UTF-8",
			Requirement: "`PROG 127.0.0.1 PORT \"" + probe.UTF8Text + "\"` sends its non-ASCII text as UTF-8, and the reply `" + tcpClientReplyUTF8 + "` is printed decoded as UTF-8 (or as the bytes object, which prints-reply judges). Each half is judged when there is something to see; a client that neither sends nor prints anything fails.",
			Category:    report.Encoding, Points: 1,
			Hint: "Encode the message with .encode('utf-8') and decode the reply with .decode('utf-8').",
			Run:  tcpClientCheckUTF8,
		},
		{
			ID: "closes", Title: "closes the connection and exits 0 after the reply",
			Requirement: fmt.Sprintf("While the server keeps its side open, the client closes the connection and exits with status 0 by itself, within %s of the reply (or of its connection, when it leaves before any reply).", probe.ExitTimeout),
			Category:    report.Lifecycle, Points: 2,
			Hint: "The server does not close the connection for you: after one recv() of the answer, call sock.close() and let the program end. Do not loop until recv() returns b''.",
			Run:  tcpClientCheckCloses,
		},
		{
			ID: "localhost", Title: "accepts a host name",
			Requirement: "`PROG localhost PORT MESSAGE` connects to the server on this machine (netgrade listens on 127.0.0.1); what it sends is sends-message's concern.",
			Category:    report.Start, Points: 1,
			Hint: "Pass HOST to connect() as it is: socket resolves names such as localhost; do not parse it as an IP address.",
			Run:  tcpClientCheckLocalhost,
		},
	}
	return graders.NewExercise(e)
}

// tcpClientRun is what netgrade saw of one run of the client program,
// netgrade playing the server.
type tcpClientRun struct {
	t     *graders.T
	p     *harness.Process
	port  int
	host  string
	msg   string
	conn  *probe.TCPConn // nil when the client never connected
	got   []byte         // what the client sent before netgrade answered
	reply string         // what netgrade answered ("" when it did not)
	// replyFrom is the index of the program's first line printed after
	// the reply was sent.
	replyFrom int
	// exited is true when the client ended by itself, netgrade's side
	// still open; closedAt is when netgrade closed its side because the
	// client had not (zero otherwise).
	exited   bool
	closedAt time.Time
}

// tcpClientMessageDone reports whether what the client sent is complete
// enough to judge: the message (with or without a final newline), or more
// than that.
func tcpClientMessageDone(got []byte, msg string) bool {
	s := string(got)
	return s == msg || s == msg+"\n" || s == msg+"\r\n" || len(got) > len(msg)+2
}

// tcpClientSession listens on a fresh port, runs the client against it,
// and plays the course's server: wait for the message, answer reply in one
// write, keep the connection open until the client closes. A client that
// sends nothing within probe.LineTimeout, its connection still open, gets
// the reply anyway, so that printing the reply is judged apart from
// sending the message. A client still
// running probe.ExitTimeout after the reply gets netgrade's side closed, then is
// stopped after another probe.ExitTimeout.
func tcpClientSession(t *graders.T, host, msg, reply string) (*tcpClientRun, error) {
	ln, err := probe.ListenTCP(t)
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	p, err := t.Start(map[string]string{"host": host, "port": strconv.Itoa(ln.Port()), "message": msg})
	if err != nil {
		return nil, err
	}
	r := &tcpClientRun{t: t, p: p, port: ln.Port(), host: host, msg: msg}
	c, ok, err := ln.Accept(probe.ReadyTimeout, p.Done())
	// A client still starting on a busy machine gets the grace a server
	// gets (probe.StillAtWork): the wall clock alone does not decide.
	waited := t.Timeout(probe.ReadyTimeout)
	for graces := 0; err == nil && !ok && graces < probe.StartGraces && p.Running() && t.Context().Err() == nil && probe.ClientStillStarting(t, p, waited); graces++ {
		c, ok, err = ln.Accept(probe.StartGrace, p.Done())
		waited += t.Timeout(probe.StartGrace)
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		r.finish()
		return r, t.Context().Err()
	}
	r.conn = c
	r.got, _ = c.WaitFor(probe.LineTimeout, func(d []byte, eof bool) bool { return eof || tcpClientMessageDone(d, msg) })
	if len(r.got) == 0 && !c.EOF() {
		t.Note("the client sent nothing within %s: netgrade answers anyway", t.Timeout(probe.LineTimeout))
	}
	if len(r.got) > 0 || !c.EOF() {
		r.replyFrom = p.Output().Len()
		r.reply = reply
		if err := c.Send([]byte(reply)); err != nil {
			t.Note("netgrade could not send its reply: %v", err)
		}
	}
	r.finish()
	return r, t.Context().Err()
}

// finish waits for the client to end by itself; if it does not, closes
// netgrade's side and waits again, then stops it.
func (r *tcpClientRun) finish() {
	t, p := r.t, r.p
	wctx, cancel := context.WithTimeout(t.Context(), t.Timeout(probe.ExitTimeout))
	_, err := p.Wait(wctx)
	cancel()
	r.exited = err == nil
	if !r.exited && r.conn != nil && t.Context().Err() == nil {
		t.Note("the client still runs %s later: netgrade closes its side of the connection", t.Timeout(probe.ExitTimeout))
		r.closedAt = time.Now()
		r.conn.Close()
		wctx, cancel := context.WithTimeout(t.Context(), t.Timeout(probe.ExitTimeout))
		_, err = p.Wait(wctx)
		cancel()
	}
	if err != nil && t.Context().Err() == nil {
		t.Note("the client still runs: netgrade stops it")
		p.Stop()
	}
	_ = p.WaitOutput(t.Context())
}

// judgeSent checks that the client connected and sent the message.
func (r *tcpClientRun) judgeSent() error {
	want := []byte(r.msg)
	wantText := fmt.Sprintf("%q (%d bytes)", r.msg, len(want))
	ex := r.p.Exit()
	if r.conn == nil {
		f := graders.Failf("the client never connected to 127.0.0.1:%d (%s)", r.port, ex).
			Want("a connection to 127.0.0.1:"+strconv.Itoa(r.port)+" carrying "+wantText, "no connection; printed:\n"+probe.PrintedSince(r.p, 0))
		if ex.Code == 0 && pyenv.LastTraceback(r.p.Output().Lines()) == nil {
			f.Hint = "The client ended without connecting: connect((host, port)) with HOST = sys.argv[1] and PORT = int(sys.argv[2])."
		}
		return f
	}
	got := bytes.TrimRight(r.got, "\r\n")
	switch {
	case len(r.got) == 0 && r.closedAt.IsZero():
		return graders.Failf("the client connected, then closed the connection without sending anything (%s)", ex).
			Want(wantText, "nothing").
			WithHint("After connect(), send the message: sock.sendall(sys.argv[3].encode('utf-8')). All three arguments are needed: HOST, PORT and MESSAGE.")
	case len(r.got) == 0:
		return graders.Failf("the client connected but sent nothing within %s", r.t.Timeout(probe.LineTimeout)).
			Want(wantText, "nothing").
			WithHint("The client speaks first: send the message right after connect().")
	case !bytes.Equal(got, want):
		return graders.Failf("the client did not send exactly the message's UTF-8 bytes").
			Want(fmt.Sprintf("%s = %s", wantText, probe.HexBytes(want)),
				fmt.Sprintf("%q (%d bytes) = %s", graders.Printable(r.got), len(r.got), probe.HexBytes(r.got))).
			WithHint("Send sys.argv[3] whole, encoded with .encode('utf-8'), in one sendall().")
	}
	return nil
}

// judgeConnected checks that the client connected at all.
func (r *tcpClientRun) judgeConnected() error {
	if r.conn != nil {
		return nil
	}
	f := graders.Failf("the client never connected to %s:%d (%s)", r.host, r.port, r.p.Exit()).
		Want("a connection to port "+strconv.Itoa(r.port), "no connection; printed:\n"+probe.PrintedSince(r.p, 0))
	if tb := pyenv.LastTraceback(r.p.Output().Lines()); tb != nil {
		f.Actual = "no connection; the program ended with " + tb.Line
	}
	return f
}

// noReply explains why netgrade could not answer the client.
func (r *tcpClientRun) noReply() error {
	if err := r.judgeConnected(); err != nil {
		return err
	}
	return graders.Failf("the client closed the connection before netgrade could answer: it does not wait for the reply").
		Want("the client reads the reply, "+tcpClientReply+", and prints it", "the connection closed by the client after it sent "+strconv.Quote(graders.Printable(r.got))).
		WithHint("After sending, read the answer with sock.recv(1024) before closing.")
}

// findPrinted returns the first line printed after the reply that holds
// the reply as text or as a bytes object, or nil.
func (r *tcpClientRun) findPrinted(reply string) *harness.Line {
	repr := probe.BytesRepr([]byte(reply))
	for _, l := range r.p.Output().Since(r.replyFrom) {
		if strings.Contains(l.Text, reply) || strings.Contains(l.Text, repr) {
			return &l
		}
	}
	return nil
}

// judgePrinted checks that the reply was printed as text, whenever it
// was: a client that prints only once netgrade closed its side is
// tcp-client/closes' concern.
func (r *tcpClientRun) judgePrinted(reply string) error {
	if r.reply == "" {
		return r.noReply()
	}
	want := "a line holding " + reply
	found := r.findPrinted(reply)
	got := probe.PrintedSince(r.p, r.replyFrom)
	switch {
	case found == nil:
		return graders.Failf("the client did not print the reply").Want(want, got)
	case strings.Contains(found.Text, probe.BytesRepr([]byte(reply))):
		return graders.Failf("the reply is printed as a bytes object (%s), not as text", probe.BytesRepr([]byte(reply))).
			Want(want, found.Text).
			WithHint("Decode the bytes before printing: reply.decode('utf-8').")
	}
	if !r.closedAt.IsZero() && found.Time.After(r.closedAt) {
		r.t.Note("the reply was printed only once netgrade had closed its side; this check tolerates that (tcp-client/closes judges it)")
	}
	return nil
}

// judgeUTF8 checks the encoding both ways, each where there is something
// to see: what the client sent, if anything, must hold the message's text
// as UTF-8; the reply, if printed, must be decoded as UTF-8 (the bytes
// object is prints-reply's concern). A client that shows neither fails.
func (r *tcpClientRun) judgeUTF8(reply string) error {
	seen := false
	if len(r.got) > 0 {
		seen = true
		if err := judgeSentUTF8(r.got, r.msg); err != nil {
			return err
		}
	}
	if r.reply != "" {
		if found := r.findPrinted(reply); found != nil {
			return nil
		}
		got := probe.PrintedSince(r.p, r.replyFrom)
		if form, ok := misdecoded(reply, got); ok {
			return graders.Failf("the reply's UTF-8 bytes were printed decoded with another encoding: %s", form).
				Want("a line holding "+reply, got).
				WithHint("Decode the reply with .decode('utf-8').")
		}
	}
	if !seen {
		if err := r.judgeConnected(); err != nil {
			return err
		}
		return graders.Failf("the client neither sent anything nor printed netgrade's reply: there is no text whose encoding could be judged").
			Want(fmt.Sprintf("%q sent as UTF-8, or the reply %q printed", r.msg, reply), "nothing; printed:\n"+probe.PrintedSince(r.p, 0))
	}
	return nil
}

// judgeSentUTF8 checks that sent holds msg's non-ASCII text as UTF-8:
// once the whitespace around it is trimmed, valid UTF-8 holding a piece
// of msg with at least one of its non-ASCII characters. Whether it is the
// whole message, exactly, is sends-message's concern.
func judgeSentUTF8(sent []byte, msg string) error {
	text := strings.TrimSpace(string(sent))
	if utf8.ValidString(text) && text != "" && strings.Contains(msg, text) && strings.IndexFunc(text, func(r rune) bool { return r >= utf8.RuneSelf }) >= 0 {
		return nil
	}
	want := []byte(msg)
	return graders.Failf("the message's non-ASCII text was not sent as UTF-8").
		Want(fmt.Sprintf("%q = %s (%d bytes)", msg, probe.HexBytes(want), len(want)),
			fmt.Sprintf("%q = %s (%d bytes)", graders.Printable(sent), probe.HexBytes(sent), len(sent))).
		WithHint("Encode the message with .encode('utf-8') before sending it.")
}

// judgeCloses checks that the client closed and exited 0 by itself while
// netgrade's side was open.
func (r *tcpClientRun) judgeCloses() error {
	if err := r.judgeConnected(); err != nil {
		return err
	}
	ex := r.p.Exit()
	switch {
	case !r.exited:
		what := "netgrade then closed its side and the client ended (" + ex.String() + ")"
		if ex.StoppedBy != "" {
			what = "netgrade then closed its side, and still had to stop the client (" + ex.String() + ")"
		}
		after := "the reply"
		if r.reply == "" {
			after = "it connected"
		}
		return graders.Failf("the client was still running %s after %s, its connection open", r.t.Timeout(probe.ExitTimeout), after).
			Want(fmt.Sprintf("the client closes the connection and exits 0 within %s", r.t.Timeout(probe.ExitTimeout)), what)
	case ex.Code != 0:
		return graders.Failf("the client %s", ex).
			Want("exit status 0", ex.String()+"; printed:\n"+probe.PrintedSince(r.p, 0))
	}
	return nil
}

// tcpClientCheckSendsMessage judges the sends-message check: connects and
// sends the message.
func tcpClientCheckSendsMessage(t *graders.T) error {
	s, err := tcpClientSession(t, "127.0.0.1", tcpClientMessage, tcpClientReply)
	if err != nil {
		return err
	}
	return s.judgeSent()
}

// tcpClientCheckPrintsReply judges the prints-reply check: prints the
// server's reply.
func tcpClientCheckPrintsReply(t *graders.T) error {
	s, err := tcpClientSession(t, "127.0.0.1", tcpClientMessage, tcpClientReply)
	if err != nil {
		return err
	}
	return s.judgePrinted(tcpClientReply)
}

// tcpClientCheckUTF8 judges the utf8 check: sends and prints non-ASCII text
// as UTF-8.
func tcpClientCheckUTF8(t *graders.T) error {
	s, err := tcpClientSession(t, "127.0.0.1", probe.UTF8Text, tcpClientReplyUTF8)
	if err != nil {
		return err
	}
	return s.judgeUTF8(tcpClientReplyUTF8)
}

// tcpClientCheckCloses judges the closes check: closes the connection and
// exits 0 after the reply.
func tcpClientCheckCloses(t *graders.T) error {
	s, err := tcpClientSession(t, "127.0.0.1", tcpClientMessage, tcpClientReply)
	if err != nil {
		return err
	}
	return s.judgeCloses()
}

// tcpClientCheckLocalhost judges the localhost check: accepts a host name.
func tcpClientCheckLocalhost(t *graders.T) error {
	s, err := tcpClientSession(t, "localhost", tcpClientMessage, tcpClientReply)
	if err != nil {
		return err
	}
	return s.judgeConnected()
}
