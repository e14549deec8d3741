package capture

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/gopacket/pcapgo"
)

// FuzzFrame feeds any bytes as a frame read on the loopback (any process
// of the machine may send them): Parse never reads outside it, a payload
// is a part of it, the answers count a TCP or UDP frame and nothing else,
// and the pcapng file written of it reads back, with a key log, to the
// same frame.
func FuzzFrame(f *testing.F) {
	f.Add(frame(UDP, 40000, 5000, 0, 0, "hello").Data)
	f.Add(frame(TCP, 5000, 40000, PSH|ACK, 32, "hi\n").Data)
	f.Add(frame(TCP, 40000, 5000, SYN, 40, "").Data)
	f.Add([]byte{12: 0x86, 13: 0xdd, 14: 0x60, 20: 0, 21: 8, 22: UDP, 53: 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p := Parse(b)
		payload := p.Payload(b)
		if p.Proto == 0 {
			if p != (Packet{}) {
				t.Fatalf("a frame that is neither TCP nor UDP has fields: %+v", p)
			}
		} else {
			if p.Proto != TCP && p.Proto != UDP {
				t.Fatalf("protocol %d", p.Proto)
			}
			if p.Headers() > len(b) {
				t.Fatalf("headers of %d bytes in a frame of %d", p.Headers(), len(b))
			}
			if len(payload) > p.PayloadLen || !bytes.HasPrefix(b[p.Headers():], payload) {
				t.Fatalf("payload %q is not the data after the headers", payload)
			}
		}
		fr := Frame{Time: time.Unix(1700000000, 0), Data: b, Len: len(b), Packet: p}
		w := Lesson([]Frame{fr}, nil, false)
		if (w == nil) != (p.Proto == 0) {
			t.Fatalf("answers %v for a frame of protocol %d", w, p.Proto)
		}
		data, err := Bytes([]Frame{fr}, []byte("CLIENT_RANDOM 00 11\n"), "fuzz")
		if err != nil {
			t.Fatal(err)
		}
		r, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatalf("reading the file back: %v", err)
		}
		got, ci, err := r.ReadPacketData()
		if err != nil {
			t.Fatalf("reading the frame back: %v", err)
		}
		if !bytes.Equal(got, b) || ci.Length != len(b) {
			t.Fatalf("read back %q (length %d), wrote %q", got, ci.Length, b)
		}
	})
}
