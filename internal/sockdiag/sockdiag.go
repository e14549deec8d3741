// Package sockdiag lists the kernel's TCP and UDP sockets through netlink
// sock_diag (INET_DIAG), the interface ss(8) uses: binary records, filtered
// in the kernel by protocol, state and local port, instead of the text of
// /proc/net/{tcp,tcp6,udp,udp6} parsed whole on every look.
//
// The netlink transport (framing, sequence numbers, multi-part dumps, error
// replies) is github.com/mdlayher/netlink; this package only encodes the
// inet_diag request and decodes its replies, which golang.org/x/sys/unix
// does not describe.
package sockdiag

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"

	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nlenc"
	"golang.org/x/sys/unix"
)

// Proto is a transport protocol sock_diag can list.
type Proto uint8

// The protocols this package lists.
const (
	TCP Proto = unix.IPPROTO_TCP
	UDP Proto = unix.IPPROTO_UDP
)

func (p Proto) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return fmt.Sprintf("proto(%d)", uint8(p))
}

// Socket states, as the kernel numbers them (include/net/tcp_states.h). An
// unconnected UDP socket is in Close, a connected one in Established.
const (
	Established uint8 = 1
	SynSent     uint8 = 2
	SynRecv     uint8 = 3
	FinWait1    uint8 = 4
	FinWait2    uint8 = 5
	TimeWait    uint8 = 6
	Close       uint8 = 7
	CloseWait   uint8 = 8
	LastAck     uint8 = 9
	Listen      uint8 = 10
	Closing     uint8 = 11
)

// AllStates selects sockets in any state.
const AllStates uint32 = 0xffffffff

// States returns the state mask that selects the given states.
func States(states ...uint8) uint32 {
	var m uint32
	for _, s := range states {
		m |= 1 << s
	}
	return m
}

// Query says which sockets to list: one protocol of one address family,
// in the states of the mask (AllStates when zero), bound to Port when it is
// not zero.
type Query struct {
	Family uint8 // unix.AF_INET or unix.AF_INET6
	Proto  Proto
	States uint32
	Port   uint16
}

// Entry is one socket as sock_diag describes it.
type Entry struct {
	Family  uint8
	Proto   Proto
	State   uint8
	Src     net.IP // 4 bytes for AF_INET, 16 for AF_INET6
	SrcPort uint16
	Dst     net.IP
	DstPort uint16
	// RQueue is, for a listening TCP socket, the number of connections
	// waiting in its accept queue; otherwise the bytes waiting to be read.
	RQueue uint32
	WQueue uint32
	UID    uint32
	Inode  uint64
}

// Conn is a netlink sock_diag socket. It is not safe for concurrent use by
// queries that overlap; open one per goroutine that queries.
type Conn struct {
	c *netlink.Conn
}

// Dial opens a sock_diag socket in the network namespace of the caller.
// It needs no privilege.
func Dial() (*Conn, error) {
	c, err := netlink.Dial(unix.NETLINK_SOCK_DIAG, nil)
	if err != nil {
		return nil, fmt.Errorf("opening a sock_diag netlink socket: %w", err)
	}
	return &Conn{c: c}, nil
}

// Close closes the socket.
func (c *Conn) Close() error { return c.c.Close() }

// Sizes of the kernel structures (include/uapi/linux/inet_diag.h).
const (
	sizeofSockID = 48
	sizeofReqV2  = 8 + sizeofSockID
	sizeofMsg    = 4 + sizeofSockID + 20
)

// ErrUnsupported is returned (wrapped) when the kernel has no sock_diag
// handler for the family or protocol asked (a kernel without INET_DIAG or
// UDP_DIAG).
var ErrUnsupported = errors.New("sock_diag is not supported for this protocol")

// List returns the sockets q selects.
func (c *Conn) List(q Query) ([]Entry, error) {
	states := q.States
	if states == 0 {
		states = AllStates
	}
	req := make([]byte, sizeofReqV2)
	req[0] = q.Family
	req[1] = uint8(q.Proto)
	nlenc.PutUint32(req[4:8], states)
	// The id's local port selects sockets bound to it: the kernel skips the
	// others while it dumps (inet_diag and udp_diag both honour it).
	binary.BigEndian.PutUint16(req[8:10], q.Port)
	msgs, err := c.c.Execute(netlink.Message{
		Header: netlink.Header{Type: unix.SOCK_DIAG_BY_FAMILY, Flags: netlink.Request | netlink.Dump},
		Data:   req,
	})
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
			return nil, fmt.Errorf("%w: %s over family %d: %w", ErrUnsupported, q.Proto, q.Family, err)
		}
		return nil, fmt.Errorf("sock_diag %s dump: %w", q.Proto, err)
	}
	out := make([]Entry, 0, len(msgs))
	for _, m := range msgs {
		e, err := decode(m.Data, q.Proto)
		if err != nil {
			return nil, err
		}
		// Filter again here: an older kernel may ignore the port in a dump.
		if q.Port != 0 && e.SrcPort != q.Port {
			continue
		}
		if states&(1<<e.State) == 0 {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// decode reads one inet_diag_msg.
func decode(b []byte, proto Proto) (Entry, error) {
	if len(b) < sizeofMsg {
		return Entry{}, fmt.Errorf("sock_diag: short inet_diag_msg (%d bytes)", len(b))
	}
	e := Entry{Family: b[0], Proto: proto, State: b[1]}
	id := b[4 : 4+sizeofSockID]
	e.SrcPort = binary.BigEndian.Uint16(id[0:2])
	e.DstPort = binary.BigEndian.Uint16(id[2:4])
	switch e.Family {
	case unix.AF_INET:
		e.Src = net.IP(append([]byte(nil), id[4:8]...))
		e.Dst = net.IP(append([]byte(nil), id[20:24]...))
	case unix.AF_INET6:
		e.Src = net.IP(append([]byte(nil), id[4:20]...))
		e.Dst = net.IP(append([]byte(nil), id[20:36]...))
	default:
		return Entry{}, fmt.Errorf("sock_diag: unexpected address family %d", e.Family)
	}
	rest := b[4+sizeofSockID:]
	e.RQueue = nlenc.Uint32(rest[4:8])
	e.WQueue = nlenc.Uint32(rest[8:12])
	e.UID = nlenc.Uint32(rest[12:16])
	e.Inode = uint64(nlenc.Uint32(rest[16:20]))
	return e, nil
}
