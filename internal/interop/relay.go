package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// A cell puts netgrade between the two programs: the client is given the
// relay's port, the relay forwards to the server's port and records every
// byte each way. That is how a cell knows which side lost or garbled the
// message: what the client sent, what reached the server, what it answered.

// Directions and kinds of the relay's events.
const (
	toServer = "client → server"
	toClient = "server → client"
	note     = "relay"
)

// event is one thing the relay saw.
type event struct {
	At   time.Time
	Dir  string
	Data []byte
	Text string
}

// recorder keeps the relay's events and wakes whoever waits for one.
type recorder struct {
	mu      sync.Mutex
	events  []event
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) add(e event) {
	e.At = time.Now()
	r.mu.Lock()
	r.events = append(r.events, e)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

func (r *recorder) snapshot() ([]event, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event(nil), r.events...), r.changed
}

// wait returns once pred holds for the events, or ctx ends (false).
func (r *recorder) wait(ctx context.Context, pred func([]event) bool) bool {
	for {
		evs, ch := r.snapshot()
		if pred(evs) {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// bytesDir joins the data of every event in one direction; count is how
// many events carried data.
func bytesDir(evs []event, dir string) (data []byte, count int) {
	for _, e := range evs {
		if e.Dir == dir && e.Data != nil {
			data = append(data, e.Data...)
			count++
		}
	}
	return data, count
}

// hasNote reports whether the relay noted text.
func hasNote(evs []event, text string) bool {
	for _, e := range evs {
		if e.Dir == note && e.Text == text {
			return true
		}
	}
	return false
}

// Relay notes.
const (
	noteRefused      = "the server's port refused the connection"
	noteUnreachable  = "nothing received on the server's port (ICMP port unreachable)"
	noteClientClosed = "the client closed its side"
	noteServerClosed = "the server closed its side"
	noteClientReset  = "the client reset the connection"
	noteServerReset  = "the server reset the connection"
	noteConnected    = "the client connected"
	noteMarker       = "marker"
)

// relay is a UDP or TCP relay on 127.0.0.1.
type relay struct {
	rec    *recorder
	port   int
	closer func()
	// marker is the datagram netgrade sends itself to know that every
	// datagram the client sent before it has been read (UDP).
	marker []byte
	wg     sync.WaitGroup
	// client is where the client's datagrams came from: the server's
	// replies go back there.
	clientMu sync.Mutex
	client   net.Addr
}

// listenRelay opens the relay on a port of the kernel's choosing (an
// ephemeral port, outside the range whose ports netgrade hands to the
// programs), forwarding to the server's port. clientIdle and serverIdle
// tell whether a side is done sending for now (it waits to read): see
// pipe.
func listenRelay(proto string, serverPort int, clientIdle, serverIdle func() bool) (*relay, error) {
	r := &relay{rec: newRecorder()}
	front := "127.0.0.1:0"
	back := net.JoinHostPort("127.0.0.1", strconv.Itoa(serverPort))
	if proto == "udp" {
		fc, err := net.ListenPacket("udp4", front)
		if err != nil {
			return nil, fmt.Errorf("relay: %w", err)
		}
		r.port = fc.LocalAddr().(*net.UDPAddr).Port
		bc, err := net.Dial("udp4", back)
		if err != nil {
			fc.Close()
			return nil, fmt.Errorf("relay: %w", err)
		}
		r.marker = make([]byte, 24)
		_, _ = rand.Read(r.marker)
		r.closer = func() { fc.Close(); bc.Close() }
		r.wg.Add(2)
		go r.udpFront(fc, bc)
		go r.udpBack(fc, bc)
		return r, nil
	}
	ln, err := net.Listen("tcp4", front)
	if err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	r.port = ln.Addr().(*net.TCPAddr).Port
	var mu sync.Mutex
	var conns []net.Conn
	r.closer = func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.rec.add(event{Dir: note, Text: noteConnected})
			s, err := net.DialTimeout("tcp4", back, 2*time.Second)
			if err != nil {
				r.rec.add(event{Dir: note, Text: noteRefused})
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, s)
			mu.Unlock()
			r.wg.Add(2)
			go r.pipe(c, s, toServer, noteClientClosed, noteClientReset, clientIdle)
			go r.pipe(s, c, toClient, noteServerClosed, noteServerReset, serverIdle)
		}
	}()
	return r, nil
}

// quietFlush is how long a sender that is neither blocked reading nor
// closed must send nothing for the relay to pass on what it holds.
const quietFlush = 300 * time.Millisecond

// pipe copies from one side to the other, recording the bytes, and passes
// a close of the sending side on as a close of the receiving side's. What
// one side sends in pieces (a server that sends its reply a byte at a
// time) is passed on in one write once the sender is done for now: it
// waits to read (idle), it closed, or it went quiet for quietFlush. A
// client's single recv() then reads what a sender wrote in pieces whole,
// whatever the scheduling: on a real network, how the pieces fall is luck,
// and luck must not decide a cell.
func (r *relay) pipe(from, to net.Conn, dir, closed, reset string, idle func() bool) {
	defer r.wg.Done()
	type chunk struct {
		data []byte
		err  error
	}
	reads := make(chan chunk)
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := from.Read(buf)
			reads <- chunk{bytes.Clone(buf[:n]), err}
			if err != nil {
				close(reads)
				return
			}
		}
	}()
	var pending []byte
	flush := func() {
		if len(pending) > 0 {
			_, _ = to.Write(pending)
			pending = nil
		}
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case c, ok := <-reads:
			if !ok {
				return
			}
			if len(c.data) > 0 {
				r.rec.add(event{Dir: dir, Data: c.data})
				pending = append(pending, c.data...)
				last = time.Now()
				if len(pending) >= 32<<10 {
					flush()
				}
			}
			if c.err != nil {
				flush()
				if errors.Is(c.err, io.EOF) {
					r.rec.add(event{Dir: note, Text: closed})
					if tc, ok := to.(*net.TCPConn); ok {
						_ = tc.CloseWrite()
					}
				} else if !errors.Is(c.err, net.ErrClosed) {
					r.rec.add(event{Dir: note, Text: reset})
					to.Close()
				}
				// Let the reader goroutine end.
				for range reads {
				}
				return
			}
		case <-tick.C:
			if len(pending) > 0 && (time.Since(last) >= quietFlush || idle()) {
				flush()
			}
		}
	}
}

// udpFront reads the client's datagrams and forwards them to the server.
func (r *relay) udpFront(fc net.PacketConn, bc net.Conn) {
	defer r.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, from, err := fc.ReadFrom(buf)
		if err != nil {
			return
		}
		if bytes.Equal(buf[:n], r.marker) {
			r.rec.add(event{Dir: note, Text: noteMarker})
			continue
		}
		r.clientMu.Lock()
		r.client = from
		r.clientMu.Unlock()
		data := bytes.Clone(buf[:n])
		r.rec.add(event{Dir: toServer, Data: data})
		_, _ = bc.Write(data)
	}
}

// udpBack reads the server's replies and sends them on to the client.
func (r *relay) udpBack(fc net.PacketConn, bc net.Conn) {
	defer r.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, err := bc.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var op *net.OpError
			if errors.As(err, &op) {
				r.rec.add(event{Dir: note, Text: noteUnreachable})
				continue
			}
			return
		}
		r.rec.add(event{Dir: toClient, Data: bytes.Clone(buf[:n])})
		if to := r.lastClient(); to != nil {
			_, _ = fc.WriteTo(buf[:n], to)
		}
	}
}

// lastClient is the address of the client's last datagram, nil before.
func (r *relay) lastClient() net.Addr {
	r.clientMu.Lock()
	defer r.clientMu.Unlock()
	return r.client
}

// sync sends the marker to the UDP relay and waits until it was read: every
// datagram queued before it has then been recorded.
func (r *relay) sync(ctx context.Context) bool {
	if r.marker == nil {
		return true
	}
	c, err := net.Dial("udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)))
	if err != nil {
		return false
	}
	defer c.Close()
	if _, err := c.Write(r.marker); err != nil {
		return false
	}
	return r.rec.wait(ctx, func(evs []event) bool { return hasNote(evs, noteMarker) })
}

// close stops the relay and waits for its goroutines.
func (r *relay) close() {
	r.closer()
	r.wg.Wait()
}
