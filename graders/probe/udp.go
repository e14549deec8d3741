package probe

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/netgrade/netgrade/graders"
	"golang.org/x/sys/unix"
)

// UDPPeer is a UDP socket of netgrade's on 127.0.0.1, playing a client of
// the program under test (or its server, for client exercises). Everything
// it sends and receives goes into the check's transcript.
type UDPPeer struct {
	t    *graders.T
	conn *net.UDPConn
}

// NewUDPPeer opens a UDP socket on host (127.0.0.1 or ::1) and port (0 for
// any).
func NewUDPPeer(t *graders.T, host string, port int) (*UDPPeer, error) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(host), Port: port})
	if err != nil {
		return nil, fmt.Errorf("opening netgrade's UDP socket on %s:%d: %w", host, port, err)
	}
	go func() {
		<-t.Context().Done()
		conn.Close()
	}()
	return &UDPPeer{t: t, conn: conn}, nil
}

func (u *UDPPeer) Addr() string { return u.conn.LocalAddr().String() }

// Send sends one datagram to 127.0.0.1:port.
func (u *UDPPeer) Send(port int, data []byte) error {
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	u.t.Sent("udp", u.Addr(), to.String(), data)
	if _, err := u.conn.WriteToUDP(data, to); err != nil {
		return fmt.Errorf("sending a datagram to %s: %w", to, err)
	}
	return nil
}

// Datagram is one datagram netgrade received.
type Datagram struct {
	From *net.UDPAddr
	Data []byte
	At   time.Time
}

// Drain returns every datagram already queued on the socket, without
// waiting: once a client has exited, everything it sent over loopback is in
// the queue, so the count is exact.
func (u *UDPPeer) Drain() ([]Datagram, error) {
	raw, err := u.conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	var out []Datagram
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
		d := Datagram{Data: append([]byte(nil), buf[:n]...), At: time.Now()}
		switch a := from.(type) {
		case *unix.SockaddrInet4:
			d.From = &net.UDPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}
		case *unix.SockaddrInet6:
			d.From = &net.UDPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
		}
		sender := "?"
		if d.From != nil {
			sender = d.From.String()
		}
		u.t.Received("udp", sender, u.Addr(), d.Data, d.At)
		out = append(out, d)
	}
}
