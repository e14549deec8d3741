package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/report"
)

// TCPConn is a TCP connection of netgrade's to the program under test (or
// from it, for client exercises). Reads run in the background into a
// buffer, so a check can wait for "some bytes", "a whole line" or "the
// end" with a deadline; everything sent and received goes into the check's
// transcript.
type TCPConn struct {
	t      *graders.T
	conn   net.Conn
	local  string
	remote string

	mu      sync.Mutex
	buf     []byte
	firstAt time.Time // when the first byte arrived
	lastAt  time.Time // when the last bytes arrived
	// pieces are the reads of the program's bytes, in order: where each
	// ended in buf and when it arrived, so that a time can be taken from
	// the piece that holds what a check judges, not from the first byte.
	pieces  []piece
	eof     bool  // the program closed its side (or reset after data)
	readErr error // a reset or other error, nil on a clean close
	changed chan struct{}
	closed  bool
	// wclosed is true once netgrade has shut down its sending side.
	wclosed bool
}

// DialTCP connects to 127.0.0.1:port.
func DialTCP(t *graders.T, port int) (*TCPConn, error) {
	return DialTCPFrom(t, nil, port)
}

// DialTCPFrom connects to 127.0.0.1:port from the loopback address from
// (nil: the system's choice, 127.0.0.1), so that a program printing its
// client's address shows which of several clients it serves. When from
// cannot be bound, it falls back to 127.0.0.1 and notes it.
func DialTCPFrom(t *graders.T, from net.IP, port int) (*TCPConn, error) {
	to := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	d := net.Dialer{Timeout: t.Timeout(ReadyTimeout)}
	if from != nil {
		d.LocalAddr = &net.TCPAddr{IP: from}
	}
	conn, err := d.DialContext(t.Context(), "tcp", to)
	if err != nil && from != nil && t.Context().Err() == nil && errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Note("cannot connect from %s here (%v): connecting from 127.0.0.1", from, err)
		d.LocalAddr = nil
		conn, err = d.DialContext(t.Context(), "tcp", to)
	}
	if err != nil {
		t.Note("connecting to %s failed: %v", to, err)
		return nil, err
	}
	return wrapTCP(t, conn), nil
}

// wrapTCP starts observing an established connection.
func wrapTCP(t *graders.T, conn net.Conn) *TCPConn {
	c := &TCPConn{t: t, conn: conn, local: conn.LocalAddr().String(), remote: conn.RemoteAddr().String(), changed: make(chan struct{})}
	t.Event(report.EvConnect, "tcp", c.local, c.remote, "")
	go c.readLoop()
	go func() {
		<-t.Context().Done()
		c.Close()
	}()
	return c
}

func (c *TCPConn) readLoop() {
	b := make([]byte, 65536)
	for {
		n, err := c.conn.Read(b)
		at := time.Now()
		if n > 0 {
			data := append([]byte(nil), b[:n]...)
			c.t.Received("tcp", c.remote, c.local, data, at)
			c.mu.Lock()
			if len(c.buf) == 0 {
				c.firstAt = at
			}
			c.lastAt = at
			c.buf = append(c.buf, data...)
			c.pieces = append(c.pieces, piece{end: len(c.buf), at: at})
			c.signalLocked()
			c.mu.Unlock()
		}
		if err != nil {
			c.mu.Lock()
			c.eof = true
			wasClosed := c.closed
			if !errors.Is(err, io.EOF) && !wasClosed {
				c.readErr = err
			}
			c.signalLocked()
			c.mu.Unlock()
			switch {
			case wasClosed:
			case errors.Is(err, io.EOF):
				c.t.Event(report.EvClose, "tcp", c.remote, c.local, "the program closed the connection")
			case errors.Is(err, syscall.ECONNRESET):
				c.t.Event(report.EvClose, "tcp", c.remote, c.local, "the program reset the connection")
			default:
				c.t.Event(report.EvClose, "tcp", c.remote, c.local, err.Error())
			}
			return
		}
	}
}

// piece is one read of the program's bytes: buf[:end] had arrived at at.
type piece struct {
	end int
	at  time.Time
}

// ArrivedAt returns when the byte at offset n-1 of what was received
// arrived: the time of the piece that completed the first n bytes (zero
// when n is 0 or more than has come).
func (c *TCPConn) ArrivedAt(n int) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return arrivedAt(c.pieces, n)
}

func arrivedAt(pieces []piece, n int) time.Time {
	if n <= 0 {
		return time.Time{}
	}
	for _, p := range pieces {
		if p.end >= n {
			return p.at
		}
	}
	return time.Time{}
}

func (c *TCPConn) signalLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Send writes data to the program.
func (c *TCPConn) Send(data []byte) error {
	c.t.Sent("tcp", c.local, c.remote, data)
	if err := c.conn.SetWriteDeadline(time.Now().Add(c.t.Timeout(LineTimeout))); err != nil {
		return err
	}
	_, err := c.conn.Write(data)
	return err
}

// CloseWrite shuts down netgrade's sending side (the program reads EOF)
// while still reading the program's answer.
func (c *TCPConn) CloseWrite() error {
	c.mu.Lock()
	c.wclosed = true
	c.mu.Unlock()
	c.t.Event(report.EvClose, "tcp", c.local, c.remote, "netgrade shut down its sending side")
	if tc, ok := c.conn.(*net.TCPConn); ok {
		return tc.CloseWrite()
	}
	return nil
}

// Close closes the connection.
func (c *TCPConn) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	eof := c.eof
	c.mu.Unlock()
	if !eof && c.t.Context().Err() == nil {
		c.t.Event(report.EvClose, "tcp", c.local, c.remote, "netgrade closed the connection")
	}
	c.conn.Close()
}

// WriteClosed reports whether netgrade has shut down its sending side.
func (c *TCPConn) WriteClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wclosed
}

// Received returns a copy of everything received so far.
func (c *TCPConn) Received() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf...)
}

// FirstAt returns when the first byte from the program arrived (zero while
// none has).
func (c *TCPConn) FirstAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.firstAt
}

// LastAt returns when the latest bytes from the program arrived (zero while
// none have).
func (c *TCPConn) LastAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastAt
}

// EOF reports whether the program has closed (or reset) its side.
func (c *TCPConn) EOF() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.eof
}

// ReadErr returns the error that ended reading, if it was not a clean close
// (a reset after the reply is tolerated by callers that have their data).
func (c *TCPConn) ReadErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// WaitFor waits up to timeout (scaled by the course's timeout scale, as
// every deadline of the package's waits) until done(received, eof) is
// true, and returns what was received by then. ok is false at the
// deadline. Every wait on a connection is for something a correct program
// does: the deadline only bounds a failing one's.
func (c *TCPConn) WaitFor(timeout time.Duration, done func(data []byte, eof bool) bool) ([]byte, bool) {
	data, _, ok := c.WaitForAt(timeout, done)
	return data, ok
}

// WaitForAt is WaitFor that also returns when the last of the returned
// bytes arrived (the zero time when none did): the time the program's
// answer was complete, read by the background reader as it came in rather
// than when the waiting goroutine got to run.
func (c *TCPConn) WaitForAt(timeout time.Duration, done func(data []byte, eof bool) bool) ([]byte, time.Time, bool) {
	return c.WaitUntil(time.Now().Add(c.t.Timeout(timeout)), done)
}

// WaitUntil is WaitForAt with an absolute deadline, already scaled: for
// several clients that share one window.
func (c *TCPConn) WaitUntil(deadline time.Time, done func(data []byte, eof bool) bool) ([]byte, time.Time, bool) {
	ctx, cancel := context.WithDeadline(c.t.Context(), deadline)
	defer cancel()
	return c.WaitCtx(ctx, done)
}

// WaitCtx is WaitUntil bounded by ctx instead of a deadline: for clients
// whose window is known only once the first of them has its answer.
func (c *TCPConn) WaitCtx(ctx context.Context, done func(data []byte, eof bool) bool) ([]byte, time.Time, bool) {
	for {
		c.mu.Lock()
		data, at, eof, ch := append([]byte(nil), c.buf...), c.lastAt, c.eof, c.changed
		c.mu.Unlock()
		if done(data, eof) {
			return data, at, true
		}
		if eof {
			return data, at, false
		}
		select {
		case <-ctx.Done():
			return data, at, false
		case <-ch:
		}
	}
}

// WaitAny waits up to timeout for at least one byte or the end.
func (c *TCPConn) WaitAny(timeout time.Duration) ([]byte, bool) {
	return c.WaitFor(timeout, func(d []byte, eof bool) bool { return len(d) > 0 || eof })
}

// WaitEOF waits up to timeout for the program to close its side.
func (c *TCPConn) WaitEOF(timeout time.Duration) ([]byte, bool) {
	return c.WaitFor(timeout, func(_ []byte, eof bool) bool { return eof })
}

// acceptDrain bounds the wait for a connection already queued when a
// client program has ended.
const acceptDrain = 200 * time.Millisecond

// TCPListener is a TCP server socket of netgrade's on 127.0.0.1, for client
// exercises.
type TCPListener struct {
	t    *graders.T
	ln   *net.TCPListener
	port int
}

// ListenTCP listens on 127.0.0.1 on a fresh port.
func ListenTCP(t *graders.T) (*TCPListener, error) {
	port, err := t.Port()
	if err != nil {
		return nil, err
	}
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("%w: listening on 127.0.0.1:%d: %w", graders.ErrPortTaken, port, err)
		}
		return nil, fmt.Errorf("listening on 127.0.0.1:%d: %w", port, err)
	}
	go func() {
		<-t.Context().Done()
		ln.Close()
	}()
	return &TCPListener{t: t, ln: ln, port: port}, nil
}

// Accept waits up to timeout (scaled) for the program to connect; it also returns
// early with ok false when exited is closed (the program ended without
// connecting).
func (l *TCPListener) Accept(timeout time.Duration, exited <-chan struct{}) (*TCPConn, bool, error) {
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	if err := l.ln.SetDeadline(time.Now().Add(l.t.Timeout(timeout))); err != nil {
		return nil, false, err
	}
	go func() {
		c, err := l.ln.Accept()
		ch <- res{c, err}
	}()
	var r res
	select {
	case r = <-ch:
	case <-exited:
		// The program may have connected just before ending: such a
		// connection is already queued and accept returns at once; only
		// when none is, give up after acceptDrain.
		select {
		case r = <-ch:
		case <-time.After(acceptDrain):
			_ = l.ln.SetDeadline(time.Now())
			r = <-ch
		}
	}
	if r.err != nil {
		var ne net.Error
		if errors.As(r.err, &ne) && ne.Timeout() || l.t.Context().Err() != nil {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("accepting the program's connection: %w", r.err)
	}
	return wrapTCP(l.t, r.c), true, nil
}

// Close stops listening.
func (l *TCPListener) Close() { l.ln.Close() }

// Port returns the port the listener listens on.
func (l *TCPListener) Port() int { return l.port }

// LocalAddr returns netgrade's end of the connection, "127.0.0.1:PORT".
func (c *TCPConn) LocalAddr() string { return c.local }
