package capture

import "encoding/binary"

// The transport protocols a Packet tells apart.
const (
	TCP = 6
	UDP = 17
)

// The header sizes of a loopback frame.
const (
	EthernetHeader = 14
	IPv4Header     = 20 // without options, as Linux sends
	IPv6Header     = 40
	UDPHeader      = 8
	// TCPHeaderLinux is the TCP header of Linux's data segments: 20 bytes
	// and a 12-byte time stamp option.
	TCPHeaderLinux = 32
)

// The TCP flags a Packet keeps.
const (
	FIN = 0x01
	SYN = 0x02
	RST = 0x04
	PSH = 0x08
	ACK = 0x10
)

// Packet is what a frame's headers say: Ethernet, IPv4 or IPv6, then TCP
// or UDP. Proto is 0 for any other frame.
type Packet struct {
	// Proto is TCP or UDP.
	Proto byte
	// IPv6 is true for an IPv6 frame.
	IPv6 bool
	// Src and Dst are the ports.
	Src, Dst uint16
	// IPHeader and L4Header are the IP and TCP/UDP headers' sizes;
	// PayloadLen the data's.
	IPHeader, L4Header, PayloadLen int
	// Flags are the TCP flags.
	Flags byte
}

// Parse reads a frame's headers; a frame it does not understand (not IP,
// not TCP or UDP, cut short) gives the zero Packet.
func Parse(b []byte) Packet {
	var p Packet
	if len(b) < EthernetHeader {
		return Packet{}
	}
	ip := b[EthernetHeader:]
	var proto byte
	var total int
	switch binary.BigEndian.Uint16(b[12:14]) {
	case 0x0800:
		if len(ip) < IPv4Header || ip[0]>>4 != 4 {
			return Packet{}
		}
		p.IPHeader = int(ip[0]&0x0f) * 4
		proto = ip[9]
		total = int(binary.BigEndian.Uint16(ip[2:4]))
		if binary.BigEndian.Uint16(ip[6:8])&0x1fff != 0 {
			return Packet{} // a later fragment: no transport header
		}
	case 0x86dd:
		if len(ip) < IPv6Header {
			return Packet{}
		}
		p.IPv6, p.IPHeader = true, IPv6Header
		proto = ip[6]
		total = IPv6Header + int(binary.BigEndian.Uint16(ip[4:6]))
	default:
		return Packet{}
	}
	if p.IPHeader < IPv4Header || len(ip) < p.IPHeader {
		return Packet{}
	}
	l4 := ip[p.IPHeader:]
	switch proto {
	case UDP:
		if len(l4) < UDPHeader {
			return Packet{}
		}
		p.L4Header = UDPHeader
	case TCP:
		if len(l4) < 20 {
			return Packet{}
		}
		p.L4Header = int(l4[12]>>4) * 4
		p.Flags = l4[13]
		if p.L4Header < 20 || len(l4) < p.L4Header {
			return Packet{}
		}
	default:
		return Packet{}
	}
	p.Proto = proto
	p.Src = binary.BigEndian.Uint16(l4[0:2])
	p.Dst = binary.BigEndian.Uint16(l4[2:4])
	p.PayloadLen = max(0, total-p.IPHeader-p.L4Header)
	return p
}

// Headers returns the size of every header of the frame.
func (p Packet) Headers() int { return EthernetHeader + p.IPHeader + p.L4Header }

// Payload returns the data the frame b carries, as far as it was kept.
func (p Packet) Payload(b []byte) []byte {
	start := p.Headers()
	end := start + p.PayloadLen
	if start > len(b) {
		return nil
	}
	return b[start:min(end, len(b))]
}
