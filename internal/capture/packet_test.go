package capture

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/internal/report"
	"gotest.tools/v3/assert"
)

// frame builds an IPv4 frame on the loopback: Ethernet, IPv4 without
// options, then a UDP header or a TCP header of tcpHeader bytes, then
// payload.
func frame(proto byte, src, dst uint16, flags byte, tcpHeader int, payload string) Frame {
	l4 := UDPHeader
	if proto == TCP {
		l4 = tcpHeader
	}
	b := make([]byte, EthernetHeader+IPv4Header+l4+len(payload))
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	ip := b[EthernetHeader:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(IPv4Header+l4+len(payload)))
	ip[9] = proto
	t := ip[IPv4Header:]
	binary.BigEndian.PutUint16(t[0:], src)
	binary.BigEndian.PutUint16(t[2:], dst)
	if proto == TCP {
		t[12] = byte(l4/4) << 4
		t[13] = flags
	}
	copy(t[l4:], payload)
	return Frame{Data: b, Len: len(b), Packet: Parse(b)}
}

func TestParse(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want Packet
	}{
		{"udp", frame(UDP, 40000, 5000, 0, 0, "hello").Data,
			Packet{Proto: UDP, Src: 40000, Dst: 5000, IPHeader: 20, L4Header: 8, PayloadLen: 5}},
		{"tcp with time stamps", frame(TCP, 5000, 40000, PSH|ACK, 32, "hi\n").Data,
			Packet{Proto: TCP, Src: 5000, Dst: 40000, IPHeader: 20, L4Header: 32, PayloadLen: 3, Flags: PSH | ACK}},
		{"syn", frame(TCP, 40000, 5000, SYN, 40, "").Data,
			Packet{Proto: TCP, Src: 40000, Dst: 5000, IPHeader: 20, L4Header: 40, Flags: SYN}},
		{"cut short", frame(UDP, 1, 2, 0, 0, "x").Data[:20], Packet{}},
		{"not ip", append([]byte{12: 0x08, 13: 0x06}, make([]byte, 40)...), Packet{}},
		{"empty", nil, Packet{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.DeepEqual(t, Parse(c.data), c.want)
		})
	}
}

func TestSecretsBlock(t *testing.T) {
	for _, keylog := range []string{"CLIENT_RANDOM 00 11\n", "ab", "abcd"} {
		b := secretsBlock([]byte(keylog))
		le := binary.LittleEndian
		assert.Equal(t, len(b)%4, 0, "blocks are padded to 32 bits")
		assert.Equal(t, le.Uint32(b[0:]), uint32(0x0A), "block type")
		assert.Equal(t, le.Uint32(b[4:]), uint32(len(b)), "total length")
		assert.Equal(t, le.Uint32(b[len(b)-4:]), uint32(len(b)), "trailing total length")
		assert.Equal(t, le.Uint32(b[8:]), uint32(0x544c534b), "secrets type TLSK")
		assert.Equal(t, le.Uint32(b[12:]), uint32(len(keylog)), "secrets length")
		assert.Equal(t, string(b[16:16+len(keylog)]), keylog)
	}
}

func TestLesson(t *testing.T) {
	udp := frame(UDP, 40000, 5000, 0, 0, "hello")
	tcp := []Frame{
		frame(TCP, 40000, 6000, SYN, 40, ""),
		frame(TCP, 6000, 40000, SYN|ACK, 40, ""),
		frame(TCP, 40000, 6000, ACK, 32, ""),
		frame(TCP, 40000, 6000, PSH|ACK, 32, "hi there\n"),
		frame(TCP, 6000, 40000, ACK, 32, ""),
		frame(TCP, 6000, 40000, PSH|ACK, 32, "HI THERE\n"),
		frame(TCP, 6000, 40000, FIN|ACK, 32, ""),
		frame(TCP, 40000, 6000, FIN|ACK, 32, ""),
		frame(TCP, 6000, 40000, ACK, 32, ""),
	}
	netgradeSent := []report.Event{{Kind: report.EvSend, Proto: "udp", From: "127.0.0.1:40000", To: "127.0.0.1:5000", Data: "hello", Bytes: 5}}
	cases := []struct {
		name   string
		frames []Frame
		events []report.Event
		keys   bool
		want   []string
	}{
		{"a udp client's datagram", []Frame{udp}, nil, false, []string{
			`your program's 5-byte message ("hello") travelled in one 47-byte frame: 14 Ethernet + 20 IPv4 + 8 UDP + 5 bytes of data`,
			"Wireshark shows the text in clear: anyone on the path can read it",
		}},
		{"netgrade's datagram to a udp server", []Frame{udp}, netgradeSent, false, []string{
			`netgrade's 5-byte message ("hello") travelled in one 47-byte frame: 14 Ethernet + 20 IPv4 + 8 UDP + 5 bytes of data`,
			"Wireshark shows the text in clear: anyone on the path can read it",
		}},
		{"a tcp exchange counted", tcp, nil, false, []string{
			"TCP connection from port 40000 to port 6000: 3 frames to open it (SYN, SYN-ACK, ACK), 2 data segments carrying 18 bytes (each with 66 bytes of headers: 14 Ethernet + 20 IPv4 + 32 TCP), 1 acknowledgement alone, 3 frames to close it; 9 frames, 628 bytes on the wire for 18 bytes of data",
			"Wireshark shows the text in clear: anyone on the path can read it",
		}},
		{"no tcp or udp", []Frame{{Data: []byte{1, 2, 3}, Len: 3}}, nil, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := Lesson(c.frames, c.events, c.keys)
			if c.want == nil {
				assert.Assert(t, w == nil)
				return
			}
			assert.Equal(t, w.Source, FromCapture)
			assert.DeepEqual(t, w.Lines, c.want)
		})
	}
}

func TestCompute(t *testing.T) {
	smtp := func(kind report.EventKind, proto, text string) report.Event {
		return report.Event{Kind: kind, Proto: proto, From: "127.0.0.1:1", To: "127.0.0.1:2", Data: text, Bytes: len(text) + 2}
	}
	cases := []struct {
		name   string
		events []report.Event
		want   []string // substrings of the lines, in order
	}{
		{"udp", []report.Event{{Kind: report.EvRecv, Proto: "udp", Data: "các bạn", Bytes: 10}}, []string{
			`your program's 10-byte message ("các bạn") travels in one 52-byte frame: 14 Ethernet + 20 IPv4 + 8 UDP + 10 bytes of data`,
			"Wireshark would show the text in clear",
		}},
		{"tcp", []report.Event{
			{Kind: report.EvConnect, Proto: "tcp", From: "127.0.0.1:40000", To: "127.0.0.1:6000"},
			{Kind: report.EvSend, Proto: "tcp", From: "127.0.0.1:40000", To: "127.0.0.1:6000", Data: "hi\n", Bytes: 3},
			{Kind: report.EvRecv, Proto: "tcp", From: "127.0.0.1:6000", To: "127.0.0.1:40000", Data: "HI\n", Bytes: 3},
		}, []string{
			"1 TCP connection: each takes 3 frames to open it (SYN, SYN-ACK, ACK)",
			"2 messages carried 6 bytes, at least one segment each with 66 bytes of headers (14 Ethernet + 20 IPv4 + 32 TCP)",
		}},
		{"smtp without tls", []report.Event{
			smtp(report.EvSend, "smtp", "220 netgrade ESMTP"),
			smtp(report.EvRecv, "smtp", "EHLO me"),
			smtp(report.EvRecv, "smtp", "AUTH PLAIN ****"),
			smtp(report.EvRecv, "smtp", "MAIL FROM:<a@example.org>"),
			smtp(report.EvRecv, "smtp", "DATA"),
			smtp(report.EvRecv, "smtp", "Subject: lunch"),
			smtp(report.EvRecv, "smtp", "Shall we meet?"),
			smtp(report.EvRecv, "smtp", "."),
			smtp(report.EvRecv, "smtp", "QUIT"),
		}, []string{"No TLS: an eavesdropper reads the whole dialogue in clear (9 lines: EHLO, AUTH, MAIL FROM, DATA, message text, QUIT), the login and password included"}},
		{"smtp with starttls", []report.Event{
			smtp(report.EvSend, "smtp", "220 netgrade ESMTP"),
			smtp(report.EvRecv, "smtp", "EHLO me"),
			smtp(report.EvRecv, "smtp", "STARTTLS"),
			smtp(report.EvRecv, "smtp/tls", "AUTH PLAIN ****"),
			smtp(report.EvRecv, "smtp/tls", "MAIL FROM:<a@example.org>"),
		}, []string{"An eavesdropper reads 3 lines in clear before TLS starts (EHLO, STARTTLS); the 2 lines after it are encrypted: AUTH, MAIL FROM hidden"}},
		{"http", []report.Event{
			{Kind: report.EvConnect, Proto: "tcp", From: "127.0.0.1:40000", To: "127.0.0.1:8888"},
			{Kind: report.EvHTTPRequest, Proto: "tcp", Bytes: 0},
			{Kind: report.EvHTTPResponse, Proto: "tcp", Bytes: 120},
		}, []string{
			"1 TCP connection: each takes 3 frames to open it (SYN, SYN-ACK, ACK) and 3 or 4 to close it (FIN and ACK each way); 2 HTTP messages (requests and responses), each in one segment or more with 66 bytes of headers",
			"Wireshark would show the text in clear",
		}},
		{"no network", []report.Event{{Kind: report.EvStdout, Data: "Started"}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := Compute(c.events)
			if c.want == nil {
				assert.Assert(t, w == nil)
				return
			}
			assert.Equal(t, w.Source, Computed)
			text := strings.Join(w.Lines, "\n")
			last := -1
			for _, s := range c.want {
				i := strings.Index(text, s)
				assert.Assert(t, i > last, "want %q after what came before in:\n%s", s, text)
				last = i
			}
		})
	}
}
