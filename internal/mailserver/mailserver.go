// Package mailserver runs netgrade's own SMTP, POP3 and IMAP servers on
// loopback, one per check, to grade a student's mail client by being its
// server.
//
// Each server records the whole dialogue (every line each side sent, with
// its time, and whether it went over TLS) through a Recorder, with
// passwords masked, and keeps the facts a grader judges: the commands, the
// credentials and whether they crossed the network in clear, the message
// delivered, the mailbox at the end against the one seeded.
//
// The servers are well-kept libraries (go-smtp; go-imap v2's imapserver and
// imapmemserver) and a small POP3 server of this package, each behind a
// recording relay (see tap.go): the relay owns the student's connection,
// reads it line by line, records and forwards each line to the library over
// an in-memory pipe, and when STARTTLS (or STLS) is accepted it terminates
// the student's TLS itself and speaks TLS to the library in turn, so that
// it records the plain text of both sides before and after the switch.
package mailserver

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// Protocol names a mail protocol.
type Protocol string

// The protocols this package serves.
const (
	SMTP Protocol = "smtp"
	POP3 Protocol = "pop3"
	IMAP Protocol = "imap"
)

// Config says how a server behaves. The zero value is a server on a free
// port that offers no TLS and accepts any login.
type Config struct {
	// Port is the TCP port on 127.0.0.1; 0 picks a free one.
	Port int
	// StartTLS offers STARTTLS (SMTP, IMAP) or STLS (POP3), with a
	// self-signed certificate for 127.0.0.1 and localhost. A login in clear
	// is accepted all the same: it is recorded, not refused.
	StartTLS bool
	// User and Password are the one account. With User empty, the SMTP
	// server accepts any user name and password (the exercise has no
	// credentials) and the POP3 and IMAP servers have SeedUser and
	// SeedPassword.
	User, Password string
	// RequireLogin makes the SMTP server refuse MAIL before a successful
	// AUTH. POP3 and IMAP always need a login to open the mailbox.
	RequireLogin bool
	// Refuse lists the SMTP recipients refused with 550.
	Refuse []string
	// Mailbox is the POP3 or IMAP INBOX at start (see Seed).
	Mailbox []Message
	// Recorder receives every line and note as it happens; nil records
	// nothing.
	Recorder Recorder
	// Secrets are further strings masked wherever they appear in a recorded
	// line (e.g. a wrong password a check hands to the client). Password is
	// always masked.
	Secrets []string
	// KeyLog, when set, receives the TLS session secrets of the
	// connections to the client (tls.Config.KeyLogWriter, NSS key log
	// format), for a capture that Wireshark decrypts.
	KeyLog io.Writer
}

// Line is one line of a dialogue, as a Recorder receives it.
type Line struct {
	// At is when netgrade read the line.
	At time.Time
	// Conn numbers the connection: 1 for the first one a server accepted.
	Conn int
	// Client and Server are the two ends, "127.0.0.1:PORT".
	Client, Server string
	// FromClient is true for a line the client sent, false for one the
	// server sent.
	FromClient bool
	// TLS is true for a line that went over TLS.
	TLS bool
	// Text is the line without its line end, any password in it replaced by
	// one '*' per character. It may hold bytes that are not UTF-8.
	Text string
	// Bytes is the line's length on the wire, line end included.
	Bytes int
}

// Recorder receives a server's dialogue as it happens. Calls for one
// connection come in the order the lines crossed the relay; calls for
// different connections may be concurrent.
type Recorder interface {
	// Line records one line either side sent.
	Line(l Line)
	// Note records what the server observed or did (a connection opened,
	// TLS started, a connection closed).
	Note(at time.Time, conn int, text string)
}

// Event is one entry of a Log: a line, or a note when Note is not empty.
type Event struct {
	Line
	Note string
}

// Log is a Recorder that keeps every event in memory, for tests and for
// a grader that renders the dialogue afterwards. Its zero value is ready.
type Log struct {
	mu     sync.Mutex
	events []Event
}

// Line implements Recorder.
func (l *Log) Line(line Line) {
	l.mu.Lock()
	l.events = append(l.events, Event{Line: line})
	l.mu.Unlock()
}

// Note implements Recorder.
func (l *Log) Note(at time.Time, conn int, text string) {
	l.mu.Lock()
	l.events = append(l.events, Event{Line: Line{At: at, Conn: conn}, Note: text})
	l.mu.Unlock()
}

// Events returns a copy of the events so far.
func (l *Log) Events() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}

// String renders the log one event a line: "C: " for the client, "S: " for
// the server, "C~"/"S~" over TLS, "-- " for a note. Tests compare it.
func (l *Log) String() string {
	var b strings.Builder
	for _, e := range l.Events() {
		switch {
		case e.Note != "":
			fmt.Fprintf(&b, "-- %s\n", e.Note)
		default:
			who, sep := "S", ":"
			if e.FromClient {
				who = "C"
			}
			if e.TLS {
				sep = "~"
			}
			fmt.Fprintf(&b, "%s%s %s\n", who, sep, e.Text)
		}
	}
	return b.String()
}

// Command is one command a client sent.
type Command struct {
	At   time.Time
	Conn int
	// Verb is the command name in upper case: "EHLO", "PASS", "FETCH",
	// "UID FETCH".
	Verb string
	// Line is the command line as recorded (passwords masked), without the
	// IMAP tag.
	Line string
	// TLS is true when the command went over TLS.
	TLS bool
}

// Credential is a password a client sent, as the server saw it.
type Credential struct {
	At   time.Time
	Conn int
	// Mechanism is how it was sent: "USER/PASS", "LOGIN", "AUTH PLAIN",
	// "AUTH LOGIN", "AUTHENTICATE PLAIN".
	Mechanism string
	// User is the user name sent with it ("" when none could be read).
	User string
	// PasswordLen is the password's length in characters.
	PasswordLen int
	// TLS is true when it went over TLS; false means anyone on the path read
	// it.
	TLS bool
	// Wire is what an eavesdropper read: the lines that carried the
	// credential, the password masked, and for a SASL blob its decoded
	// content, masked the same way.
	Wire string
}

// Conn is what the relay saw of one connection.
type Conn struct {
	N              int
	Client         string
	Opened, Closed time.Time
	// TLS is true once STARTTLS/STLS succeeded on it.
	TLS   bool
	TLSAt time.Time
	// ClosedBy is "client" or "server" (the side that closed first), or
	// "netgrade" when the server was stopped with the connection open.
	ClosedBy string
}

// maxClear bounds the lines in clear a session keeps for its facts.
const maxClear = 500

// session is what the relay gathers for a server's facts: connections,
// commands, credentials and the lines that went in clear, in order.
type session struct {
	mu          sync.Mutex
	conns       []Conn
	commands    []Command
	credentials []Credential
	clear       []Line
}

func (s *session) addConn(c Conn) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.N = len(s.conns) + 1
	s.conns = append(s.conns, c)
	return c.N
}

func (s *session) updateConn(n int, f func(*Conn)) {
	s.mu.Lock()
	f(&s.conns[n-1])
	s.mu.Unlock()
}

func (s *session) addCommand(c Command) {
	s.mu.Lock()
	s.commands = append(s.commands, c)
	s.mu.Unlock()
}

func (s *session) addClear(l Line) {
	s.mu.Lock()
	if len(s.clear) < maxClear {
		s.clear = append(s.clear, l)
	}
	s.mu.Unlock()
}

func (s *session) addCredential(c Credential) {
	s.mu.Lock()
	s.credentials = append(s.credentials, c)
	s.mu.Unlock()
}

// Dialogue is what every server's facts share: the connections, the
// commands and the credentials, in the order they came, and what an
// eavesdropper on the network read.
type Dialogue struct {
	Conns       []Conn
	Commands    []Command
	Credentials []Credential
	// Clear are the lines that went in clear (before TLS), either way,
	// passwords masked: what anyone on the network path read. At most the
	// first 500.
	Clear []Line
}

func (s *session) dialogue() Dialogue {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Dialogue{
		Conns:       append([]Conn(nil), s.conns...),
		Commands:    append([]Command(nil), s.commands...),
		Credentials: append([]Credential(nil), s.credentials...),
		Clear:       append([]Line(nil), s.clear...),
	}
}

// ClearUntil returns the lines in clear of connection conn up to the
// first server line after at: the dialogue an eavesdropper read up to a
// credential and the server's answer to it.
func (d Dialogue) ClearUntil(conn int, at time.Time) []Line {
	var out []Line
	for _, l := range d.Clear {
		if l.Conn != conn {
			continue
		}
		out = append(out, l)
		if l.At.After(at) && !l.FromClient {
			break
		}
	}
	return out
}

// Verbs returns the verbs of the commands, in order.
func (d Dialogue) Verbs() []string {
	out := make([]string, len(d.Commands))
	for i, c := range d.Commands {
		out[i] = c.Verb
	}
	return out
}

// Sent reports whether the client sent a command with this verb.
func (d Dialogue) Sent(verb string) bool {
	for _, c := range d.Commands {
		if c.Verb == verb {
			return true
		}
	}
	return false
}

// InClear returns the credentials sent before TLS.
func (d Dialogue) InClear() []Credential {
	var out []Credential
	for _, c := range d.Credentials {
		if !c.TLS {
			out = append(out, c)
		}
	}
	return out
}

// TLSStarted reports whether any connection switched to TLS.
func (d Dialogue) TLSStarted() bool {
	for _, c := range d.Conns {
		if c.TLS {
			return true
		}
	}
	return false
}

// Server is a running mail server of any protocol.
type Server interface {
	// Addr is the address it listens on, 127.0.0.1:PORT.
	Addr() *net.TCPAddr
	// Shutdown stops accepting, lets the open connections end by
	// themselves until ctx is done, then closes them and waits until every
	// goroutine of the server has returned.
	Shutdown(ctx context.Context) error
	// Done is closed when the server has stopped.
	Done() <-chan struct{}
}
