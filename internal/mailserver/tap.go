package mailserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// Relay limits: a line longer than maxLine is recorded and forwarded in
// pieces; a TLS handshake that takes longer than handshakeTimeout fails.
const (
	maxLine          = 64 << 10
	handshakeTimeout = 10 * time.Second
)

// dialect knows one protocol's lines well enough to record them: which
// client lines are commands, where a password is and how to mask it, and
// when STARTTLS (STLS) is asked and granted. One dialect serves one
// connection; the relay calls it under a lock, each line before it is
// forwarded, so it sees the two directions in the order they happened.
type dialect interface {
	// client reads one line from the client (line end included).
	client(raw []byte, tls bool) clientLine
	// server reads one line from the server (line end included).
	server(raw []byte) tlsVerdict
}

// clientLine is what a dialect makes of a client line.
type clientLine struct {
	// text is the line to record, password masked, without line end.
	text string
	// verb and cmd are the command's name and its masked line without any
	// tag; verb is "" for a line that is not a command (message data, a
	// literal, a SASL response).
	verb, cmd string
	// cred is set when the line carried a password.
	cred *Credential
	// startTLS is set when the line asks to start TLS.
	startTLS bool
}

// tlsVerdict is the server's answer to a pending STARTTLS, if the line is
// that answer.
type tlsVerdict int

const (
	noVerdict tlsVerdict = iota
	tlsGranted
	tlsRefused
)

// relay accepts the students' connections on loopback and joins each to
// the library server through an in-memory pipe, recording the lines.
type relay struct {
	proto      Protocol
	newDialect func() dialect
	rec        Recorder
	sess       *session
	studentTLS *tls.Config // nil: no TLS offered
	masker     *masker

	ln    net.Listener
	pipes *pipeListener

	wg    sync.WaitGroup // the accept loop and every link's goroutines
	mu    sync.Mutex
	links map[*link]struct{}
	idle  chan struct{} // closed and replaced when the last link ends
}

func newRelay(proto Protocol, cfg Config, studentTLS *tls.Config, newDialect func() dialect) (*relay, error) {
	ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", cfg.Port))
	if err != nil {
		return nil, fmt.Errorf("%s server: %w", proto, err)
	}
	r := &relay{
		proto:      proto,
		newDialect: newDialect,
		rec:        cfg.Recorder,
		sess:       &session{},
		studentTLS: studentTLS,
		masker:     newMasker(append([]string{cfg.Password}, cfg.Secrets...)),
		ln:         ln,
		pipes:      newPipeListener(ln.Addr()),
		links:      map[*link]struct{}{},
		idle:       make(chan struct{}),
	}
	close(r.idle)
	r.wg.Add(1)
	go r.accept()
	return r, nil
}

func (r *relay) note(at time.Time, conn int, format string, args ...any) {
	if r.rec != nil {
		r.rec.Note(at, conn, fmt.Sprintf(format, args...))
	}
}

func (r *relay) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return // closed by shutdown
		}
		now := time.Now()
		n := r.sess.addConn(Conn{Client: c.RemoteAddr().String(), Opened: now})
		r.note(now, n, "%s connected to %s (%s)", c.RemoteAddr(), c.LocalAddr(), r.proto)
		ours, theirs := net.Pipe()
		l := &link{
			r: r, n: n, d: r.newDialect(),
			rawClient: c, client: c, cr: bufio.NewReaderSize(c, maxLine),
			rawLib: ours, lib: ours, lr: bufio.NewReaderSize(ours, maxLine),
			verdict: make(chan bool), resume: make(chan struct{}), done: make(chan struct{}),
			clientAddr: c.RemoteAddr().String(), serverAddr: c.LocalAddr().String(),
		}
		r.mu.Lock()
		if len(r.links) == 0 {
			r.idle = make(chan struct{})
		}
		r.links[l] = struct{}{}
		r.mu.Unlock()
		if !r.pipes.deliver(&addrConn{Conn: theirs, local: c.LocalAddr(), remote: c.RemoteAddr()}) {
			l.end("netgrade")
			r.forget(l)
			return
		}
		r.wg.Add(2)
		go l.fromClient()
		go l.fromServer()
	}
}

func (r *relay) forget(l *link) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.links[l]; !ok {
		return
	}
	delete(r.links, l)
	if len(r.links) == 0 {
		close(r.idle)
	}
}

// shutdown stops accepting, waits for the open links to end until ctx is
// done, then ends them, and waits for every goroutine of the relay.
func (r *relay) shutdown(ctx context.Context) {
	r.ln.Close()
	r.mu.Lock()
	idle := r.idle
	r.mu.Unlock()
	select {
	case <-idle:
	case <-ctx.Done():
	}
	r.mu.Lock()
	open := make([]*link, 0, len(r.links))
	for l := range r.links {
		open = append(open, l)
	}
	r.mu.Unlock()
	for _, l := range open {
		l.end("netgrade")
	}
	r.wg.Wait()
	r.pipes.Close()
}

// link is one student connection joined to the library.
type link struct {
	r *relay
	n int

	dmu sync.Mutex
	d   dialect

	// rawClient and rawLib are the plain connections, closed at the end;
	// client and lib are what is read and written (TLS once switched),
	// with their readers. The client goroutine owns them during a switch
	// while the server goroutine waits.
	rawClient, rawLib net.Conn
	client, lib       net.Conn
	cr, lr            *bufio.Reader
	tls               bool

	clientAddr, serverAddr string

	verdict chan bool     // server goroutine → client goroutine: STARTTLS answered
	resume  chan struct{} // client goroutine → server goroutine: TLS is on

	endOnce sync.Once
	done    chan struct{}
}

// readLine reads up to and including '\n', or maxLine bytes, or what is
// left before the end of the stream.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		err = nil
	}
	return append([]byte(nil), line...), err
}

func trimEOL(b []byte) string {
	s := string(b)
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

func (l *link) record(at time.Time, fromClient, tls bool, text string, n int) {
	line := Line{At: at, Conn: l.n, Client: l.clientAddr, Server: l.serverAddr,
		FromClient: fromClient, TLS: tls, Text: l.r.masker.mask(text), Bytes: n}
	if !tls {
		l.r.sess.addClear(line)
	}
	if l.r.rec != nil {
		l.r.rec.Line(line)
	}
}

func (l *link) fromClient() {
	defer l.r.wg.Done()
	serverGone := false
	for {
		raw, err := readLine(l.cr)
		if len(raw) > 0 {
			at := time.Now()
			l.dmu.Lock()
			cl := l.d.client(raw, l.tls)
			l.dmu.Unlock()
			l.record(at, true, l.tls, cl.text, len(raw))
			if cl.verb != "" {
				l.r.sess.addCommand(Command{At: at, Conn: l.n, Verb: cl.verb, Line: l.r.masker.mask(cl.cmd), TLS: l.tls})
			}
			if cl.cred != nil {
				c := *cl.cred
				c.At, c.Conn, c.TLS, c.Wire = at, l.n, l.tls, l.r.masker.mask(c.Wire)
				l.r.sess.addCredential(c)
			}
			if !serverGone {
				if _, werr := l.lib.Write(raw); werr != nil {
					serverGone = true
				}
			}
			// A STARTTLS cut by the end of the client's stream (no line
			// end, then EOF) waits for no verdict: no handshake can
			// follow, and the library may wait for the line end forever.
			if cl.startTLS && !serverGone && err == nil {
				select {
				case ok := <-l.verdict:
					if ok {
						if err := l.switchTLS(); err != nil {
							l.r.note(time.Now(), l.n, "TLS handshake failed: %v", err)
							l.end("netgrade")
							return
						}
						close(l.resume)
					}
				case <-l.done:
					return
				}
			}
		}
		if err != nil {
			l.end("client")
			return
		}
	}
}

func (l *link) fromServer() {
	defer l.r.wg.Done()
	for {
		raw, err := readLine(l.lr)
		if len(raw) > 0 {
			at := time.Now()
			l.dmu.Lock()
			v := l.d.server(raw)
			l.dmu.Unlock()
			l.record(at, false, l.tls, trimEOL(raw), len(raw))
			if _, werr := l.client.Write(raw); werr != nil {
				l.end("client")
				return
			}
			switch v {
			case tlsGranted:
				select {
				case l.verdict <- true:
				case <-l.done:
					return
				}
				select {
				case <-l.resume:
				case <-l.done:
					return
				}
			case tlsRefused:
				select {
				case l.verdict <- false:
				case <-l.done:
					return
				}
			}
		}
		if err != nil {
			l.serverClosed()
			return
		}
	}
}

// serverClosed half-closes the student's connection: the client reads the
// end of the stream, and what it still sends is recorded until it closes.
func (l *link) serverClosed() {
	select {
	case <-l.done:
		return
	default:
	}
	now := time.Now()
	l.r.sess.updateConn(l.n, func(c *Conn) {
		if c.ClosedBy == "" {
			c.ClosedBy = "server"
		}
	})
	l.r.note(now, l.n, "the server closed the connection")
	if tc, ok := l.rawClient.(*net.TCPConn); ok && !l.tls {
		tc.CloseWrite()
		return
	}
	if tc, ok := l.client.(*tls.Conn); ok {
		// close_notify, then the TCP half-close.
		tc.SetWriteDeadline(time.Now().Add(time.Second))
		tc.CloseWrite()
		if raw, ok := l.rawClient.(*net.TCPConn); ok {
			raw.CloseWrite()
		}
	}
}

// end closes the link once, recording who closed first.
func (l *link) end(by string) {
	l.endOnce.Do(func() {
		now := time.Now()
		first := by
		l.r.sess.updateConn(l.n, func(c *Conn) {
			if c.ClosedBy == "" {
				c.ClosedBy = by
			}
			first = c.ClosedBy
			c.Closed = now
		})
		switch by {
		case "netgrade":
			l.r.note(now, l.n, "netgrade closed the connection")
		case "client":
			if first == "client" {
				l.r.note(now, l.n, "the client closed the connection")
			} else {
				l.r.note(now, l.n, "the client closed its side too")
			}
		}
		close(l.done)
		l.rawClient.Close()
		l.rawLib.Close()
		l.r.forget(l)
	})
}

// switchTLS runs the two handshakes of a granted STARTTLS: netgrade as the
// library's client on the pipe, and as the student's server on the socket.
func (l *link) switchTLS() error {
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	defer cancel()
	go func() {
		select {
		case <-l.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	lib := tls.Client(&readerConn{Conn: l.lib, r: l.lr}, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}) //nolint:gosec // netgrade's own server, in memory
	if err := lib.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("with the server library: %w", err)
	}
	client := tls.Server(&readerConn{Conn: l.client, r: l.cr}, l.r.studentTLS)
	if err := client.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("with the client: %w", err)
	}
	now := time.Now()
	st := client.ConnectionState()
	l.r.note(now, l.n, "TLS started (%s, %s): what follows is encrypted on the network", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
	l.r.sess.updateConn(l.n, func(c *Conn) { c.TLS, c.TLSAt = true, now })
	l.lib, l.lr = lib, bufio.NewReaderSize(lib, maxLine)
	l.client, l.cr = client, bufio.NewReaderSize(client, maxLine)
	l.tls = true
	return nil
}

// readerConn reads through r (a reader already buffering the connection)
// so that no byte read ahead before a TLS switch is lost.
type readerConn struct {
	net.Conn
	r io.Reader
}

func (c *readerConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// addrConn is the library's end of a pipe, showing the student's addresses.
type addrConn struct {
	net.Conn
	local, remote net.Addr
}

func (c *addrConn) LocalAddr() net.Addr  { return c.local }
func (c *addrConn) RemoteAddr() net.Addr { return c.remote }

// pipeListener hands the library its ends of the pipes.
type pipeListener struct {
	addr   net.Addr
	conns  chan net.Conn
	once   sync.Once
	closed chan struct{}
}

func newPipeListener(addr net.Addr) *pipeListener {
	return &pipeListener{addr: addr, conns: make(chan net.Conn), closed: make(chan struct{})}
}

// deliver hands c to the library's Accept; false when the listener closed.
func (p *pipeListener) deliver(c net.Conn) bool {
	select {
	case p.conns <- c:
		return true
	case <-p.closed:
		c.Close()
		return false
	}
}

func (p *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-p.conns:
		return c, nil
	case <-p.closed:
		return nil, net.ErrClosed
	}
}

func (p *pipeListener) Close() error {
	p.once.Do(func() { close(p.closed) })
	return nil
}

func (p *pipeListener) Addr() net.Addr { return p.addr }
