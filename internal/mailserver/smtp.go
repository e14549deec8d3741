package mailserver

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPServer is netgrade's SMTP server (go-smtp behind the relay). It
// accepts mail for any recipient but those it is told to refuse, keeps
// every message delivered, and offers AUTH PLAIN, in clear too (so that a
// client that logs in before STARTTLS is seen doing so).
type SMTPServer struct {
	base
	cfg Config

	mu       sync.Mutex
	mailFrom []string
	rcpt     []Recipient
	messages []Delivery
}

// Recipient is one RCPT TO the server got.
type Recipient struct {
	Addr    string
	Refused bool
}

// Delivery is one message the server accepted.
type Delivery struct {
	At   time.Time
	From string
	To   []string
	// Data is the message as the client sent it, dot-unstuffed, CRLF line
	// ends, without the final dot.
	Data []byte
	// TLS is true when it came over TLS.
	TLS bool
	// UTF8 is true when the client declared SMTPUTF8 on MAIL FROM.
	UTF8 bool
}

// SMTPFacts is what a grader judges of an SMTP session.
type SMTPFacts struct {
	Dialogue
	// Greeting is the verb of the client's first command if it is EHLO or
	// HELO (in upper case), "" otherwise.
	Greeting string
	// MailFrom lists the MAIL FROM addresses, in order.
	MailFrom []string
	// Rcpt lists the RCPT TO addresses, in order, refused ones marked.
	Rcpt []Recipient
	// Messages are the messages accepted.
	Messages []Delivery
	// Quit is true when the client sent QUIT.
	Quit bool
	// StartTLSOffered is true when the server offered STARTTLS.
	StartTLSOffered bool
}

// StartSMTP starts an SMTP server on 127.0.0.1:cfg.Port. It stops when ctx
// ends or on Shutdown.
func StartSMTP(ctx context.Context, cfg Config) (*SMTPServer, error) {
	studentTLS, libTLS, err := tlsFor(cfg)
	if err != nil {
		return nil, err
	}
	s := &SMTPServer{cfg: cfg}
	s.relay, err = newRelay(SMTP, cfg, studentTLS, newSMTPDialect)
	if err != nil {
		return nil, err
	}
	lib := smtp.NewServer(smtpBackend{s})
	lib.Domain = "localhost"
	lib.TLSConfig = libTLS
	lib.AllowInsecureAuth = true
	lib.MaxMessageBytes = 1 << 20
	lib.MaxRecipients = 50
	lib.ReadTimeout = time.Minute
	lib.WriteTimeout = time.Minute
	lib.ErrorLog = discardLog{}
	s.run(ctx, lib.Serve, func(ctx context.Context) {
		lib.Close()
		lib.Shutdown(ctx) //nolint:errcheck // already closed: it only waits
	})
	return s, nil
}

// Facts returns what the server saw so far; after Shutdown, all of it.
func (s *SMTPServer) Facts() SMTPFacts {
	f := SMTPFacts{Dialogue: s.Dialogue(), StartTLSOffered: s.cfg.StartTLS}
	if len(f.Commands) > 0 && (f.Commands[0].Verb == "EHLO" || f.Commands[0].Verb == "HELO") {
		f.Greeting = f.Commands[0].Verb
	}
	f.Quit = f.Sent("QUIT")
	s.mu.Lock()
	defer s.mu.Unlock()
	f.MailFrom = slices.Clone(s.mailFrom)
	f.Rcpt = slices.Clone(s.rcpt)
	f.Messages = slices.Clone(s.messages)
	return f
}

type smtpBackend struct{ s *SMTPServer }

func (b smtpBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &smtpSession{s: b.s, tls: isTLS}, nil
}

// smtpSession is one SMTP session (a new one after STARTTLS).
type smtpSession struct {
	s      *SMTPServer
	tls    bool
	authed bool
	from   string
	utf8   bool
	to     []string
}

func (ss *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *smtpSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, pass string) error {
		cfg := ss.s.cfg
		if cfg.User != "" && (user != cfg.User || pass != cfg.Password) {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *smtpSession) Mail(from string, opts *smtp.MailOptions) error {
	if ss.s.cfg.RequireLogin && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.s.mu.Lock()
	ss.s.mailFrom = append(ss.s.mailFrom, from)
	ss.s.mu.Unlock()
	ss.from, ss.utf8 = from, opts != nil && opts.UTF8
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	refused := slices.ContainsFunc(ss.s.cfg.Refuse, func(r string) bool { return strings.EqualFold(r, to) })
	ss.s.mu.Lock()
	ss.s.rcpt = append(ss.s.rcpt, Recipient{Addr: to, Refused: refused})
	ss.s.mu.Unlock()
	if refused {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: fmt.Sprintf("<%s>: no such user here", to)}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("reading the message: %w", err)
	}
	ss.s.mu.Lock()
	ss.s.messages = append(ss.s.messages, Delivery{At: time.Now(), From: ss.from, To: slices.Clone(ss.to), Data: data, TLS: ss.tls, UTF8: ss.utf8})
	ss.s.mu.Unlock()
	return nil
}

func (ss *smtpSession) Reset() { ss.from, ss.to, ss.utf8 = "", nil, false }

func (ss *smtpSession) Logout() error { return nil }
