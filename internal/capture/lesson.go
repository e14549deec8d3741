package capture

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/netgrade/netgrade/internal/report"
)

// The sources of a report.Wire.
const (
	// FromCapture: the frames were counted in the check's capture.
	FromCapture = "capture"
	// Computed: no capture; the sizes are computed from the transcript,
	// as IPv4 on the loopback carries them.
	Computed = "computed"
)

// maxShown bounds the datagrams and connections described one by one.
const maxShown = 3

// Lesson answers the course's questions about a check's traffic from its
// captured frames: each UDP datagram's frame beside its message, each TCP
// connection's frames counted (opening, data, acknowledgements, closing),
// and what an eavesdropper reads. events is the check's transcript (the
// mail dialogue's TLS marks); keys says that the capture holds the TLS
// session keys. It returns nil for frames that hold no TCP or UDP.
func Lesson(frames []Frame, events []report.Event, keys bool) *report.Wire {
	w := &report.Wire{Source: FromCapture}
	var udp []Frame
	var conns []*conn
	byKey := map[string]*conn{}
	clear := false
	for _, f := range frames {
		p := f.Packet
		switch p.Proto {
		case UDP:
			udp = append(udp, f)
			clear = clear || isText(p.Payload(f.Data))
		case TCP:
			k := connKey(p)
			c := byKey[k]
			if c == nil {
				c = &conn{client: p.Src, server: p.Dst}
				if p.Flags&(SYN|ACK) == SYN|ACK {
					c.client, c.server = p.Dst, p.Src
				}
				byKey[k] = c
				conns = append(conns, c)
			}
			c.add(f)
			clear = clear || isText(p.Payload(f.Data))
		}
	}
	if len(udp) == 0 && len(conns) == 0 {
		return nil
	}
	ours := netgradePorts(events)
	for i, f := range udp {
		if i == maxShown {
			w.Lines = append(w.Lines, fmt.Sprintf("… and %s, each in a frame %d bytes longer than its message", plural(len(udp)-maxShown, "more datagram"), f.Packet.Headers()))
			break
		}
		p := f.Packet
		whose := "your program's"
		if ours[p.Src] {
			whose = "netgrade's"
		}
		w.Lines = append(w.Lines, fmt.Sprintf("%s %s travelled in one %d-byte frame: %s + %d bytes of data",
			whose, message(p.PayloadLen, p.Payload(f.Data)), f.Len, headers(p), p.PayloadLen))
	}
	for i, c := range conns {
		if i == maxShown {
			w.Lines = append(w.Lines, fmt.Sprintf("… and %s", plural(len(conns)-maxShown, "more TCP connection")))
			break
		}
		w.Lines = append(w.Lines, c.String())
	}
	if line := eavesdropper(events, keys); line != "" {
		w.Lines = append(w.Lines, line)
	} else if clear {
		w.Lines = append(w.Lines, "Wireshark shows the text in clear: anyone on the path can read it")
	}
	return w
}

// netgradePorts returns the ports netgrade's own ends used in the
// transcript: where it sent from and received at.
func netgradePorts(events []report.Event) map[uint16]bool {
	ports := map[uint16]bool{}
	add := func(addr string) {
		if i := strings.LastIndexByte(addr, ':'); i >= 0 {
			var n uint16
			if _, err := fmt.Sscan(addr[i+1:], &n); err == nil {
				ports[n] = true
			}
		}
	}
	for _, e := range events {
		switch e.Kind {
		case report.EvSend:
			add(e.From)
		case report.EvRecv:
			add(e.To)
		}
	}
	return ports
}

// connKey names a TCP connection whichever way a frame goes.
func connKey(p Packet) string {
	a, b := p.Src, p.Dst
	if a > b {
		a, b = b, a
	}
	return fmt.Sprintf("%d-%d", a, b)
}

// conn counts one TCP connection's frames by their part in it.
type conn struct {
	client, server                uint16
	open, data, acks, close, size int
	payload                       int
	header                        Packet // a data segment's headers
	established, closing          bool
}

func (c *conn) add(f Frame) {
	p := f.Packet
	c.size += f.Len
	switch {
	case p.Flags&SYN != 0:
		c.open++
	case p.Flags&RST != 0:
		c.close++
		c.closing = true
	case p.PayloadLen > 0:
		c.data++
		c.payload += p.PayloadLen
		c.header = p
		c.established = true
		if p.Flags&FIN != 0 {
			c.close++
			c.closing = true
		}
	case p.Flags&FIN != 0:
		c.close++
		c.closing = true
	case !c.established && c.open >= 2:
		c.open++
		c.established = true
	case c.closing:
		c.close++
	default:
		c.acks++
	}
}

func (c *conn) String() string {
	frames := c.open + c.data + c.acks + c.close
	var b strings.Builder
	fmt.Fprintf(&b, "TCP connection from port %d to port %d: %s to open it", c.client, c.server, plural(c.open, "frame"))
	if c.open == 3 {
		b.WriteString(" (SYN, SYN-ACK, ACK)")
	}
	fmt.Fprintf(&b, ", %s carrying %s", plural(c.data, "data segment"), plural(c.payload, "byte"))
	if c.data > 0 {
		fmt.Fprintf(&b, " (each with %d bytes of headers: %s)", c.header.Headers(), headers(c.header))
	}
	fmt.Fprintf(&b, ", %s alone, %s to close it; %s, %d bytes on the wire for %s of data",
		plural(c.acks, "acknowledgement"), plural(c.close, "frame"), plural(frames, "frame"), c.size, plural(c.payload, "byte"))
	return b.String()
}

// headers spells out a frame's headers: "14 Ethernet + 20 IPv4 + 8 UDP".
func headers(p Packet) string {
	ip := "IPv4"
	if p.IPv6 {
		ip = "IPv6"
	}
	l4 := "UDP"
	if p.Proto == TCP {
		l4 = "TCP"
	}
	return fmt.Sprintf("%d Ethernet + %d %s + %d %s", EthernetHeader, p.IPHeader, ip, p.L4Header, l4)
}

// message describes a message of n bytes whose start is data.
func message(n int, data []byte) string {
	s := fmt.Sprintf("%d-byte message", n)
	if isText(data) {
		text := string(data)
		if utf8.RuneCountInString(text) > 40 {
			text = string([]rune(text)[:40]) + "…"
		}
		s += fmt.Sprintf(" (%q)", text)
	}
	return s
}

// isText reports whether data reads as text: what Wireshark shows in clear.
func isText(data []byte) bool {
	if len(data) == 0 || !utf8.Valid(data) {
		return false
	}
	for _, r := range string(data) {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return true
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// Compute answers the same questions as Lesson without a capture, from
// the transcript's messages and their sizes, as IPv4 on the loopback
// carries them (Linux's TCP segments have a 32-byte header, with time
// stamps). It returns nil for a transcript without TCP or UDP messages.
func Compute(events []report.Event) *report.Wire {
	w := &report.Wire{Source: Computed}
	udp, tcpConns, tcpSegs, tcpBytes, http := 0, map[string]bool{}, 0, 0, 0
	for _, e := range events {
		if e.Kind == report.EvHTTPRequest || e.Kind == report.EvHTTPResponse {
			http++
			continue
		}
		if e.Kind != report.EvSend && e.Kind != report.EvRecv && e.Kind != report.EvConnect {
			continue
		}
		proto := e.Proto
		if i := strings.IndexByte(proto, '/'); i >= 0 {
			proto = proto[:i]
		}
		switch {
		case proto == "udp" && e.Kind != report.EvConnect:
			udp++
			if udp > maxShown {
				continue
			}
			p := Packet{Proto: UDP, IPHeader: IPv4Header, L4Header: UDPHeader, PayloadLen: e.Bytes}
			whose := "your program's"
			if e.Kind == report.EvSend {
				whose = "netgrade's"
			}
			w.Lines = append(w.Lines, fmt.Sprintf("%s %s travels in one %d-byte frame: %s + %d bytes of data",
				whose, message(e.Bytes, []byte(e.Data)), p.Headers()+e.Bytes, headers(p), e.Bytes))
		case proto != "" && proto != "udp":
			// tcp, and the mail protocols over it
			k := e.From + "|" + e.To
			if e.From > e.To {
				k = e.To + "|" + e.From
			}
			tcpConns[k] = true
			if e.Kind != report.EvConnect {
				tcpSegs++
				tcpBytes += e.Bytes
			}
		}
	}
	if udp > maxShown {
		w.Lines = append(w.Lines, fmt.Sprintf("… and %s, each in a frame %d bytes longer than its message", plural(udp-maxShown, "more datagram"), EthernetHeader+IPv4Header+UDPHeader))
	}
	if len(tcpConns) > 0 {
		p := Packet{Proto: TCP, IPHeader: IPv4Header, L4Header: TCPHeaderLinux}
		line := fmt.Sprintf("%s: each takes 3 frames to open it (SYN, SYN-ACK, ACK) and 3 or 4 to close it (FIN and ACK each way)", plural(len(tcpConns), "TCP connection"))
		if tcpSegs > 0 {
			line += fmt.Sprintf("; %s carried %s, at least one segment each with %d bytes of headers (%s), each answered by an acknowledgement unless a reply carries it",
				plural(tcpSegs, "message"), plural(tcpBytes, "byte"), p.Headers(), headers(p))
		}
		if http > 0 {
			line += fmt.Sprintf("; %s (requests and responses), each in one segment or more with %d bytes of headers (%s)", plural(http, "HTTP message"), p.Headers(), headers(p))
		}
		w.Lines = append(w.Lines, line)
	}
	if len(w.Lines) == 0 {
		return nil
	}
	if line := eavesdropper(events, false); line != "" {
		w.Lines = append(w.Lines, line)
	} else if udp+tcpSegs+http > 0 {
		w.Lines = append(w.Lines, "Wireshark would show the text in clear: anyone on the path can read it")
	}
	return w
}

// eavesdropper says what someone on the path reads of a mail dialogue
// (events whose protocol is smtp, pop3 or imap, "/tls" for lines that
// went over TLS); "" for a transcript without one.
func eavesdropper(events []report.Event, keys bool) string {
	var clear, secret []string
	login := false
	server, name := "", ""
	inData := false
	for _, e := range events {
		if e.Kind != report.EvSend && e.Kind != report.EvRecv {
			continue
		}
		proto, tls, _ := strings.Cut(e.Proto, "/")
		if proto != "smtp" && proto != "pop3" && proto != "imap" {
			continue
		}
		// The client's lines name what was read; the server's replies
		// count as lines.
		word := ""
		if e.Kind == report.EvRecv {
			word = command(proto, e)
			// An SMTP message's lines, DATA to the dot, are its text.
			switch {
			case inData:
				word, inData = "message text", e.Data != "."
			case proto == "smtp" && word == "DATA":
				inData = true
			}
			if i := strings.LastIndexByte(e.To, ':'); i >= 0 && server == "" {
				server, name = e.To[i+1:], strings.ToUpper(proto)
			}
		}
		if tls == "tls" {
			secret = append(secret, word)
			continue
		}
		clear = append(clear, word)
		switch word {
		case "AUTH", "PASS", "LOGIN", "USER", "AUTHENTICATE", "APOP":
			login = true
		}
	}
	if len(clear)+len(secret) == 0 {
		return ""
	}
	if len(secret) == 0 {
		s := fmt.Sprintf("No TLS: an eavesdropper reads the whole dialogue in clear (%s: %s)", plural(len(clear), "line"), strings.Join(distinct(clear), ", "))
		if login {
			s += ", the login and password included"
		}
		return s
	}
	s := fmt.Sprintf("An eavesdropper reads %s in clear before TLS starts (%s); the %s after it are encrypted: %s hidden",
		plural(len(clear), "line"), strings.Join(distinct(clear), ", "), plural(len(secret), "line"), strings.Join(distinct(secret), ", "))
	if login {
		s += "; but the login went in clear, before TLS"
	}
	if keys {
		s += "; this capture holds the session keys, so Wireshark shows them decrypted"
		if server != "" {
			dissector := map[string]string{"SMTP": "smtp", "POP3": "pop", "IMAP": "imap"}[name]
			s += fmt.Sprintf(" (Decode As %s on TCP port %s to read them as %s: tshark -d tcp.port==%s,%s)", name, server, name, server, dissector)
		}
	}
	return s
}

// command returns what names a line the client sent: its command word
// (IMAP: the word after the tag), "message text" for a line of a mail's
// text.
func command(proto string, e report.Event) string {
	f := strings.Fields(e.Data)
	if proto == "imap" && len(f) > 1 {
		f = f[1:]
	}
	if len(f) == 0 || len(f[0]) > 12 || strings.ContainsFunc(f[0], func(r rune) bool { return (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') }) {
		return "message text"
	}
	w := strings.ToUpper(f[0])
	switch {
	case w == "MAIL" && len(f) > 1:
		return "MAIL FROM"
	case w == "RCPT":
		return "RCPT TO"
	}
	return w
}

// distinct returns words without repeats, in order, at most eight.
func distinct(words []string) []string {
	var out []string
	seen := map[string]bool{"": true}
	for _, w := range words {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	if len(out) > 8 {
		out = append(out[:8], "…")
	}
	return out
}
