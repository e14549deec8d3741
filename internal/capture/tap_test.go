package capture_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/capture"
	"github.com/netgrade/netgrade/internal/capture/capturetest"
	"gotest.tools/v3/assert"
)

// TestTapKeepsTheWindowsPorts exchanges a datagram and a TCP message on a
// watched port, and a datagram on a port nobody watches: the window holds
// the first two, in order, as the kernel saw them, and tshark reads the
// file written from them.
func TestTapKeepsTheWindowsPorts(t *testing.T) {
	tp := capturetest.NeedTap(t)
	w := tp.Open(time.Now())

	srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	assert.NilError(t, err)
	defer srv.Close()
	other, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	assert.NilError(t, err)
	defer other.Close()
	w.Watch(srv.LocalAddr().(*net.UDPAddr).Port)
	c, err := net.DialUDP("udp4", nil, srv.LocalAddr().(*net.UDPAddr))
	assert.NilError(t, err)
	defer c.Close()
	_, err = c.Write([]byte("hello"))
	assert.NilError(t, err)
	_, err = c.WriteToUDP([]byte("not mine"), other.LocalAddr().(*net.UDPAddr))
	if err != nil { // a connected socket refuses another destination
		o, err := net.DialUDP("udp4", nil, other.LocalAddr().(*net.UDPAddr))
		assert.NilError(t, err)
		_, err = o.Write([]byte("not mine"))
		assert.NilError(t, err)
		o.Close()
	}

	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	assert.NilError(t, err)
	defer ln.Close()
	w.Watch(ln.Addr().(*net.TCPAddr).Port)
	go func() {
		a, err := ln.Accept()
		if err != nil {
			return
		}
		defer a.Close()
		b := make([]byte, 64)
		n, _ := a.Read(b)
		_, _ = a.Write(bytes.ToUpper(b[:n]))
	}()
	tc, err := net.Dial("tcp4", ln.Addr().String())
	assert.NilError(t, err)
	_, err = tc.Write([]byte("hi there\n"))
	assert.NilError(t, err)
	reply, err := io.ReadAll(tc)
	assert.NilError(t, err)
	assert.Equal(t, string(reply), "HI THERE\n")
	tc.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := w.Close(ctx)
	assert.Equal(t, got.Incomplete, "")
	assert.Equal(t, got.Dropped, 0)
	var payloads []string
	for _, f := range got.Frames {
		if p := f.Packet.Payload(f.Data); len(p) > 0 {
			payloads = append(payloads, string(p))
		}
	}
	assert.DeepEqual(t, payloads, []string{"hello", "hi there\n", "HI THERE\n"})

	capturetest.NeedTshark(t)
	file := filepath.Join(t.TempDir(), "x.pcapng")
	data, err := capture.Bytes(got.Frames, nil, "test")
	assert.NilError(t, err)
	assert.NilError(t, os.WriteFile(file, data, 0o644))
	rows := capturetest.Tshark(t, file, "", []string{"frame.len", "udp.payload", "tcp.payload"})
	assert.Equal(t, len(rows), len(got.Frames), "tshark reads every frame")
	var seen []string
	for i, r := range rows {
		assert.Equal(t, r[0], strconv.Itoa(got.Frames[i].Len), "frame %d's length", i+1)
		for _, h := range r[1:] {
			if h != "" {
				b, err := hex.DecodeString(h)
				assert.NilError(t, err)
				seen = append(seen, string(b))
			}
		}
	}
	assert.DeepEqual(t, seen, payloads)
}

// TestSecretsDecrypt writes the capture of a TLS exchange with the
// server's key log as a Decryption Secrets Block: tshark decrypts the
// application data with no key file of its own.
func TestSecretsDecrypt(t *testing.T) {
	tp := capturetest.NeedTap(t)
	capturetest.NeedTshark(t)
	w := tp.Open(time.Now())
	var keylog bytes.Buffer
	cert := selfSigned(t)
	ln, err := tls.Listen("tcp4", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, KeyLogWriter: &keylog})
	assert.NilError(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	w.Watch(port)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a, err := ln.Accept()
		if err != nil {
			return
		}
		defer a.Close()
		b := make([]byte, 64)
		n, _ := a.Read(b)
		_, _ = a.Write(b[:n])
	}()
	c, err := tls.Dial("tcp4", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // the test's own server
	assert.NilError(t, err)
	_, err = c.Write([]byte("MAIL FROM:<alice@example.org>\r\n"))
	assert.NilError(t, err)
	_, _ = io.ReadAll(c)
	c.Close()
	<-done
	got := w.Close(context.Background())
	assert.Assert(t, keylog.Len() > 0, "the server logged its secrets")

	dir := t.TempDir()
	for name, keys := range map[string][]byte{"with": keylog.Bytes(), "without": nil} {
		file := filepath.Join(dir, name+".pcapng")
		data, err := capture.Bytes(got.Frames, keys, "test")
		assert.NilError(t, err)
		assert.NilError(t, os.WriteFile(file, data, 0o644))
		out := capturetest.TsharkText(t, "-r", file, "-d", "tcp.port=="+strconv.Itoa(port)+",tls", "-x")
		decrypted := strings.Contains(out, "Decrypted TLS") && strings.Contains(out, "MAIL FROM:<alice")
		assert.Equal(t, decrypted, keys != nil, "%s the keys, tshark decrypts: %v", name, decrypted)
	}
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	assert.NilError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	assert.NilError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestTapKeepsABurst sends 1 MiB through a TCP connection on the loopback
// at once, in segments of up to 64 KiB that fill the ring's blocks faster
// than its timer hands them over: the window holds every frame whole and
// every byte sent, in order.
func TestTapKeepsABurst(t *testing.T) {
	tp := capturetest.NeedTap(t)
	w := tp.Open(time.Now())
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	assert.NilError(t, err)
	defer ln.Close()
	w.Watch(ln.Addr().(*net.TCPAddr).Port)
	sent := make([]byte, 1<<20)
	for i := range sent {
		sent[i] = byte(i * 7)
	}
	done := make(chan error, 1)
	go func() {
		a, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer a.Close()
		_, err = io.Copy(io.Discard, a)
		done <- err
	}()
	c, err := net.Dial("tcp4", ln.Addr().String())
	assert.NilError(t, err)
	_, err = c.Write(sent)
	assert.NilError(t, err)
	assert.NilError(t, c.Close())
	assert.NilError(t, <-done)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := w.Close(ctx)
	assert.Equal(t, got.Incomplete, "")
	assert.Equal(t, got.Dropped, 0)
	// The stream is put together by the segments' sequence numbers, as
	// Wireshark does: a busy machine's loopback retransmits a segment now
	// and then, and the capture rightly holds both copies.
	// A frame read twice from the ring (the same time stamp, the same
	// segment) is the capture's fault, not the network's.
	type key struct {
		at       int64
		seq      uint32
		len, src int
	}
	seen := map[key]bool{}
	data := make([]byte, len(sent))
	covered, isn, synced, largest := 0, uint32(0), false, 0
	for _, f := range got.Frames {
		if f.Packet.Proto != 0 {
			tcp := f.Data[capture.EthernetHeader+f.Packet.IPHeader:]
			k := key{f.Time.UnixNano(), binary.BigEndian.Uint32(tcp[4:8]), f.Len, int(f.Packet.Src)}
			assert.Assert(t, !seen[k], "a frame kept twice: %+v", k)
			seen[k] = true
		}
		assert.Equal(t, f.Len, len(f.Data), "a frame kept whole")
		largest = max(largest, f.Len)
		if f.Packet.Dst != uint16(ln.Addr().(*net.TCPAddr).Port) {
			continue
		}
		tcp := f.Data[capture.EthernetHeader+f.Packet.IPHeader:]
		seq := binary.BigEndian.Uint32(tcp[4:8])
		if f.Packet.Flags&capture.SYN != 0 {
			isn, synced = seq+1, true
			continue
		}
		payload := f.Packet.Payload(f.Data)
		if len(payload) == 0 {
			continue
		}
		assert.Assert(t, synced, "data before the handshake")
		off := int(seq - isn)
		assert.Assert(t, off >= 0 && off+len(payload) <= len(sent), "a segment at %d of %d bytes is outside the 1 MiB sent", off, len(payload))
		if off >= covered {
			assert.Equal(t, off, covered, "a gap in the stream: bytes %d to %d never captured", covered, off)
			covered = off + len(payload)
		} else {
			covered = max(covered, off+len(payload))
		}
		copy(data[off:], payload)
	}
	assert.Assert(t, largest > 16<<10, "the largest frame has %d bytes: the burst was not sent in large segments", largest)
	assert.Equal(t, covered, len(sent), "the frames carry the first %d bytes of the 1 MiB sent", covered)
	assert.Assert(t, bytes.Equal(data, sent), "the frames' bytes are not the bytes sent")
}
