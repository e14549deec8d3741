package mailserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// POP3Server is netgrade's POP3 server (RFC 1939, with CAPA of RFC 2449
// and STLS of RFC 2595). No maintained Go library serves POP3, and the
// protocol is small: this one is written on net/textproto. It serves one
// maildrop, locked while a client is logged in.
type POP3Server struct {
	base
	cfg    Config
	libTLS *tls.Config

	conns sync.WaitGroup

	mu      sync.Mutex
	gone    []bool // by seed index: deleted for good (DELE then QUIT)
	locked  bool
	login   bool
	failed  int
	retr    []int
	top     []int
	dele    []int
	pending []int
}

// POP3Facts is what a grader judges of a POP3 session.
type POP3Facts struct {
	Dialogue
	// LoggedIn is true when a PASS was accepted; FailedLogins counts the
	// refused ones.
	LoggedIn     bool
	FailedLogins int
	// Retrieved and Top list the message numbers of RETR and TOP, in
	// order.
	Retrieved, Top []int
	// Dele lists the message numbers of every DELE, in order; Pending those
	// still marked when the last session ended (DELE not undone by RSET),
	// whether or not QUIT then committed them.
	Dele, Pending []int
	// Quit is true when the client sent QUIT.
	Quit bool
	// STLSOffered is true when the server offered STLS.
	STLSOffered bool
	// Changes are the differences between the mailbox at the end and the
	// one seeded.
	Changes []Change
}

// StartPOP3 starts a POP3 server on 127.0.0.1:cfg.Port holding
// cfg.Mailbox. It stops when ctx ends or on Shutdown.
func StartPOP3(ctx context.Context, cfg Config) (*POP3Server, error) {
	studentTLS, libTLS, err := tlsFor(cfg)
	if err != nil {
		return nil, err
	}
	cfg = withAccount(cfg)
	s := &POP3Server{cfg: cfg, libTLS: libTLS, gone: make([]bool, len(cfg.Mailbox))}
	s.relay, err = newRelay(POP3, cfg, studentTLS, newPOPDialect)
	if err != nil {
		return nil, err
	}
	s.run(ctx, s.serve, func(ctx context.Context) {
		waitGroup(ctx, &s.conns)
	})
	return s, nil
}

// waitGroup waits for wg until ctx is done.
func waitGroup(ctx context.Context, wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// Facts returns what the server saw so far; after Shutdown, all of it.
func (s *POP3Server) Facts() POP3Facts {
	f := POP3Facts{Dialogue: s.Dialogue(), STLSOffered: s.cfg.StartTLS}
	f.Quit = f.Sent("QUIT")
	s.mu.Lock()
	defer s.mu.Unlock()
	f.LoggedIn, f.FailedLogins = s.login, s.failed
	f.Retrieved, f.Top = slices.Clone(s.retr), slices.Clone(s.top)
	f.Dele, f.Pending = slices.Clone(s.dele), slices.Clone(s.pending)
	for i, g := range s.gone {
		if g {
			f.Changes = append(f.Changes, Change{N: i + 1, Gone: true})
		}
	}
	return f
}

func (s *POP3Server) serve(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		s.conns.Add(1)
		go func() {
			defer s.conns.Done()
			defer c.Close()
			s.session(c)
		}()
	}
}

// popSession is one connection's state.
type popSession struct {
	s     *POP3Server
	conn  net.Conn
	tp    *textproto.Conn
	tls   bool
	user  string
	trans bool  // logged in: TRANSACTION state
	msgs  []int // seed indexes of the messages of this session, by number-1
	del   map[int]bool
}

func (s *POP3Server) session(c net.Conn) {
	p := &popSession{s: s, conn: c, tp: textproto.NewConn(c), del: map[int]bool{}}
	defer p.end(false)
	p.ok("netgrade POP3 server ready")
	for {
		p.conn.SetReadDeadline(time.Now().Add(time.Minute))
		line, err := p.tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg := splitVerb(line)
		if verb == "QUIT" {
			p.end(true)
			p.ok("bye")
			return
		}
		p.handle(verb, arg)
	}
}

func (p *popSession) ok(format string, args ...any) {
	p.tp.PrintfLine("+OK "+format, args...)
}

func (p *popSession) err(format string, args ...any) {
	p.tp.PrintfLine("-ERR "+format, args...)
}

// end ends the session once: with QUIT in TRANSACTION state the deleted
// messages go for good (UPDATE state); otherwise they stay.
func (p *popSession) end(quit bool) {
	if !p.trans {
		return
	}
	p.trans = false
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.locked = false
	s.pending = s.pending[:0]
	for n := 1; n <= len(p.msgs); n++ {
		if p.del[n] {
			s.pending = append(s.pending, n)
			if quit {
				s.gone[p.msgs[n-1]] = true
			}
		}
	}
}

func (p *popSession) handle(verb, arg string) {
	s := p.s
	switch verb {
	case "CAPA":
		p.ok("Capability list follows")
		caps := []string{"USER", "TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "IMPLEMENTATION netgrade"}
		if s.libTLS != nil && !p.tls && !p.trans {
			caps = append(caps, "STLS")
		}
		for _, c := range caps {
			p.tp.PrintfLine("%s", c)
		}
		p.tp.PrintfLine(".")
	case "NOOP":
		p.ok("")
	case "STLS":
		switch {
		case s.libTLS == nil:
			p.err("STLS not offered")
		case p.tls:
			p.err("already in TLS")
		case p.trans:
			p.err("STLS is only allowed before login")
		default:
			p.ok("Begin TLS negotiation")
			tc := tls.Server(&readerConn{Conn: p.conn, r: p.tp.R}, s.libTLS)
			if err := tc.Handshake(); err != nil {
				p.conn.Close()
				return
			}
			p.conn, p.tp, p.tls = tc, textproto.NewConn(tc), true
		}
	case "USER":
		if p.trans {
			p.err("already logged in")
			return
		}
		p.user = strings.TrimSpace(arg)
		p.ok("send PASS")
	case "PASS":
		p.pass(arg)
	case "APOP", "AUTH":
		p.err("not supported: use USER and PASS")
	default:
		if !p.trans {
			p.err("unknown command or not logged in")
			return
		}
		p.transaction(verb, strings.Fields(arg))
	}
}

func (p *popSession) pass(pw string) {
	s := p.s
	if p.trans {
		p.err("already logged in")
		return
	}
	if p.user == "" {
		p.err("send USER first")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.user != s.cfg.User || pw != s.cfg.Password {
		s.failed++
		p.user = ""
		p.err("[AUTH] invalid user name or password")
		return
	}
	if s.locked {
		p.err("[IN-USE] the mailbox is in use")
		return
	}
	s.locked, s.login, p.trans = true, true, true
	p.msgs = p.msgs[:0]
	size := 0
	for i, g := range s.gone {
		if !g {
			p.msgs = append(p.msgs, i)
			size += len(s.cfg.Mailbox[i].Raw)
		}
	}
	p.ok("logged in, %d messages (%d octets)", len(p.msgs), size)
}

// msg reads a message-number argument: a message of this session, not
// deleted.
func (p *popSession) msg(args []string, i int) (n int, raw []byte, ok bool) {
	if len(args) <= i {
		p.err("message number required")
		return 0, nil, false
	}
	n, err := strconv.Atoi(args[i])
	if err != nil || n < 1 || n > len(p.msgs) {
		p.err("no such message")
		return 0, nil, false
	}
	if p.del[n] {
		p.err("message %d already deleted", n)
		return 0, nil, false
	}
	return n, p.s.cfg.Mailbox[p.msgs[n-1]].Raw, true
}

func (p *popSession) transaction(verb string, args []string) {
	s := p.s
	switch verb {
	case "STAT":
		count, size := 0, 0
		for n := 1; n <= len(p.msgs); n++ {
			if !p.del[n] {
				count++
				size += len(s.cfg.Mailbox[p.msgs[n-1]].Raw)
			}
		}
		p.ok("%d %d", count, size)
	case "LIST", "UIDL":
		value := func(n int) string {
			if verb == "LIST" {
				return strconv.Itoa(len(s.cfg.Mailbox[p.msgs[n-1]].Raw))
			}
			return fmt.Sprintf("netgrade-%d", p.msgs[n-1]+1)
		}
		if len(args) > 0 {
			if n, _, ok := p.msg(args, 0); ok {
				p.ok("%d %s", n, value(n))
			}
			return
		}
		p.ok("listing follows")
		for n := 1; n <= len(p.msgs); n++ {
			if !p.del[n] {
				p.tp.PrintfLine("%d %s", n, value(n))
			}
		}
		p.tp.PrintfLine(".")
	case "RETR":
		n, raw, ok := p.msg(args, 0)
		if !ok {
			return
		}
		s.note(func() { s.retr = append(s.retr, n) })
		p.ok("%d octets", len(raw))
		p.dot(raw)
	case "TOP":
		n, raw, ok := p.msg(args, 0)
		if !ok {
			return
		}
		lines, err := strconv.Atoi(strings.Join(args[1:], ""))
		if len(args) != 2 || err != nil || lines < 0 {
			p.err("usage: TOP msg lines")
			return
		}
		s.note(func() { s.top = append(s.top, n) })
		p.ok("top of message follows")
		p.dot(top(raw, lines))
	case "DELE":
		n, _, ok := p.msg(args, 0)
		if !ok {
			return
		}
		s.note(func() { s.dele = append(s.dele, n) })
		p.del[n] = true
		p.ok("message %d deleted", n)
	case "RSET":
		clear(p.del)
		p.ok("maildrop has %d messages", len(p.msgs))
	default:
		p.err("unknown command")
	}
}

func (s *POP3Server) note(f func()) {
	s.mu.Lock()
	f()
	s.mu.Unlock()
}

// dot writes a multi-line body, dot-stuffed, and its final dot.
func (p *popSession) dot(b []byte) {
	w := p.tp.DotWriter()
	w.Write(b)
	w.Close()
}

// top returns the header of a message, the empty line and the first n
// lines of its body.
func top(raw []byte, n int) []byte {
	head, body, found := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !found {
		return raw
	}
	out := append(append([]byte(nil), head...), "\r\n\r\n"...)
	for i := 0; i < n && len(body) > 0; i++ {
		line, rest, _ := bytes.Cut(body, []byte("\r\n"))
		out = append(append(out, line...), "\r\n"...)
		body = rest
	}
	return out
}
