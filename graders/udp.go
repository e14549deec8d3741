package graders

import (
	"errors"
	"fmt"
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// udpPeer is a UDP socket of netgrade's on 127.0.0.1, playing a client of
// the program under test (or its server, for client exercises). Everything
// it sends and receives goes into the check's transcript.
type udpPeer struct {
	t    *T
	conn *net.UDPConn
}

// newUDPPeer opens a UDP socket on host (127.0.0.1 or ::1) and port (0 for
// any).
func newUDPPeer(t *T, host string, port int) (*udpPeer, error) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(host), Port: port})
	if err != nil {
		return nil, fmt.Errorf("opening netgrade's UDP socket on %s:%d: %w", host, port, err)
	}
	go func() {
		<-t.Context().Done()
		conn.Close()
	}()
	return &udpPeer{t: t, conn: conn}, nil
}

func (u *udpPeer) addr() string { return u.conn.LocalAddr().String() }

// send sends one datagram to 127.0.0.1:port.
func (u *udpPeer) send(port int, data []byte) error {
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	u.t.Sent("udp", u.addr(), to.String(), data)
	if _, err := u.conn.WriteToUDP(data, to); err != nil {
		return fmt.Errorf("sending a datagram to %s: %w", to, err)
	}
	return nil
}

// datagram is one datagram netgrade received.
type datagram struct {
	from *net.UDPAddr
	data []byte
	at   time.Time
}

// drain returns every datagram already queued on the socket, without
// waiting: once a client has exited, everything it sent over loopback is in
// the queue, so the count is exact.
func (u *udpPeer) drain() ([]datagram, error) {
	raw, err := u.conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	var out []datagram
	buf := make([]byte, 65536)
	for {
		var n int
		var from unix.Sockaddr
		var rerr error
		err := raw.Read(func(fd uintptr) bool {
			n, from, rerr = unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
			return true
		})
		if err != nil {
			return out, err
		}
		if errors.Is(rerr, unix.EAGAIN) || errors.Is(rerr, unix.EWOULDBLOCK) {
			return out, nil
		}
		if rerr != nil {
			return out, rerr
		}
		d := datagram{data: append([]byte(nil), buf[:n]...), at: time.Now()}
		switch a := from.(type) {
		case *unix.SockaddrInet4:
			d.from = &net.UDPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}
		case *unix.SockaddrInet6:
			d.from = &net.UDPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
		}
		sender := "?"
		if d.from != nil {
			sender = d.from.String()
		}
		u.t.Received("udp", sender, u.addr(), d.data, d.at)
		out = append(out, d)
	}
}
