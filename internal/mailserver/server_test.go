package mailserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"mime"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"gotest.tools/v3/golden"
)

// TestMain fails the package if any test leaves a goroutine behind: every
// server must be gone once Shutdown returns.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestSeed checks that what the seed says a client must show is what the
// messages hold: each parses, and its From and Subject decode to it.
func TestSeed(t *testing.T) {
	dec := &mime.WordDecoder{}
	for i, m := range Seed() {
		t.Run(fmt.Sprint(i+1), func(t *testing.T) {
			assert.NotContains(t, strings.ReplaceAll(string(m.Raw), "\r\n", ""), "\n", "CRLF line ends only")
			msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
			require.NoError(t, err)
			subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
			require.NoError(t, err)
			assert.Equal(t, m.Subject, subject)
			from, err := msg.Header.AddressList("From")
			require.NoError(t, err)
			require.Len(t, from, 1)
			assert.Equal(t, m.FromName, from[0].Name)
			assert.Equal(t, m.FromAddr, from[0].Address)
			raw := msg.Header.Get("From") + msg.Header.Get("Subject")
			assert.Equal(t, strings.Contains(raw, "=?"), m.Encoded)
			assert.Contains(t, m.FromForms(), m.From())
		})
	}
}

// TestStopsWithContext leaves a client connected and silent: cancelling
// the start context closes its connection and stops the server.
func TestStopsWithContext(t *testing.T) {
	for _, start := range []func(context.Context, Config) (Server, error){
		func(ctx context.Context, c Config) (Server, error) { return StartSMTP(ctx, c) },
		func(ctx context.Context, c Config) (Server, error) { return StartPOP3(ctx, c) },
		func(ctx context.Context, c Config) (Server, error) { return StartIMAP(ctx, c) },
	} {
		ctx, cancel := context.WithCancel(t.Context())
		var log Log
		s, err := start(ctx, Config{StartTLS: true, Mailbox: Seed(), Recorder: &log})
		require.NoError(t, err)
		c, err := net.Dial("tcp", s.Addr().String())
		require.NoError(t, err)
		greeting, err := bufio.NewReader(c).ReadString('\n')
		require.NoError(t, err)
		assert.NotEmpty(t, greeting)
		cancel()
		select {
		case <-s.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the server did not stop with its context")
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = c.Read(make([]byte, 1))
		assert.ErrorIs(t, err, io.EOF, "netgrade closed the connection")
		c.Close()
		assert.Contains(t, log.String(), "-- netgrade closed the connection\n")
	}
}

// TestShutdownWaitsForClients lets a client finish its dialogue while
// Shutdown waits, and records that the client closed.
func TestShutdownWaitsForClients(t *testing.T) {
	var log Log
	s, err := StartPOP3(t.Context(), Config{Mailbox: Seed(), Recorder: &log})
	require.NoError(t, err)
	c, err := textproto.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	_, err = c.ReadLine()
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		shut(t, s)
	}()
	require.NoError(t, c.PrintfLine("NOOP"))
	line, err := c.ReadLine()
	require.NoError(t, err)
	assert.Equal(t, "+OK ", line)
	require.NoError(t, c.Close())
	<-done
	assert.Equal(t, "client", s.Facts().Conns[0].ClosedBy)
}

// TestTLSHandshakeFailure sends STARTTLS and then plain text: the relay
// records the failure and closes, nothing hangs.
func TestTLSHandshakeFailure(t *testing.T) {
	var log Log
	s, err := StartSMTP(t.Context(), Config{StartTLS: true, Recorder: &log})
	require.NoError(t, err)
	c, err := textproto.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	_, _, err = c.ReadResponse(220)
	require.NoError(t, err)
	require.NoError(t, c.PrintfLine("EHLO me"))
	_, _, err = c.ReadResponse(250)
	require.NoError(t, err)
	require.NoError(t, c.PrintfLine("STARTTLS"))
	_, _, err = c.ReadResponse(220)
	require.NoError(t, err)
	require.NoError(t, c.PrintfLine("MAIL FROM:<a@example.org>"))
	_, err = c.ReadLine()
	assert.Error(t, err, "the connection is closed")
	shut(t, s)
	assert.Contains(t, log.String(), "-- TLS handshake failed: with the client: ")
	assert.False(t, s.Facts().TLSStarted())
}

// TestSMTPGoClient sends a mail with go-smtp's client (STARTTLS, AUTH
// PLAIN) and compares the recorded dialogue with a golden file.
func TestSMTPGoClient(t *testing.T) {
	var log Log
	s, err := StartSMTP(t.Context(), Config{StartTLS: true, User: "ann", Password: "s3cret-pass", RequireLogin: true, Recorder: &log})
	require.NoError(t, err)
	c, err := smtp.DialStartTLS(s.Addr().String(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // netgrade's own certificate
	require.NoError(t, err)
	require.NoError(t, c.Auth(sasl.NewPlainClient("", "ann", "s3cret-pass")))
	msg := "Subject: hi\r\n\r\n.dot\r\n"
	require.NoError(t, c.SendMail("ann@example.org", []string{"bob@example.org"}, strings.NewReader(msg)))
	require.NoError(t, c.Quit())
	shut(t, s)
	f := s.Facts()
	require.Len(t, f.Messages, 1)
	assert.Equal(t, msg, string(f.Messages[0].Data))
	assert.True(t, f.Messages[0].TLS)
	golden.Assert(t, timeless(log.String()), "smtp_go_client.txt")
}

// timeless drops what changes from run to run (ports, TLS parameters)
// from a rendered log.
func timeless(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		switch {
		case strings.HasPrefix(l, "-- 127.0.0.1:"):
			l = "-- CLIENT connected to SERVER\n"
		case strings.HasPrefix(l, "-- TLS started ("):
			l = "-- TLS started\n"
		}
		b.WriteString(l)
	}
	return b.String()
}

// bySide renders a log's client lines, then its server lines, then its
// notes, each in their order.
func bySide(log string) string {
	var c, s, n []string
	for _, l := range strings.SplitAfter(log, "\n") {
		switch {
		case strings.HasPrefix(l, "C"):
			c = append(c, l)
		case strings.HasPrefix(l, "S"):
			s = append(s, l)
		default:
			n = append(n, l)
		}
	}
	return strings.Join(c, "") + strings.Join(s, "") + strings.Join(n, "")
}

// TestPOP3Pipelined sends several POP3 commands in one write, as RFC 2449
// allows: every reply comes, in order, and the dialogue records them.
func TestPOP3Pipelined(t *testing.T) {
	var log Log
	s, err := StartPOP3(t.Context(), Config{Mailbox: Seed(), Recorder: &log})
	require.NoError(t, err)
	c, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	tp := textproto.NewConn(c)
	_, err = tp.ReadLine()
	require.NoError(t, err)
	_, err = io.WriteString(c, "USER student\r\nPASS "+SeedPassword+"\r\nSTAT\r\nLIST 2\r\nTOP 3 2\r\nDELE 9\r\nQUIT\r\n")
	require.NoError(t, err)
	var got []string
	for {
		l, err := tp.ReadLine()
		if err != nil {
			break
		}
		got = append(got, l)
	}
	seed := Seed()
	size := 0
	for _, m := range seed {
		size += len(m.Raw)
	}
	want := []string{"+OK send PASS", fmt.Sprintf("+OK logged in, 4 messages (%d octets)", size), fmt.Sprintf("+OK 4 %d", size),
		fmt.Sprintf("+OK 2 %d", len(seed[1].Raw)), "+OK top of message follows"}
	require.GreaterOrEqual(t, len(got), len(want))
	assert.Equal(t, want, got[:len(want)])
	assert.Equal(t, []string{"Here are the files to copy:", "..htaccess", ".", "-ERR no such message", "+OK bye"}, got[len(got)-5:])
	shut(t, s)
	// Pipelined, the client's lines and the server's interleave as the
	// scheduler has it: each side's order is what is compared.
	golden.Assert(t, bySide(timeless(log.String())), "pop3_pipelined.txt")
}

// TestPortInUse reports a port another server holds.
func TestPortInUse(t *testing.T) {
	s, err := StartSMTP(t.Context(), Config{})
	require.NoError(t, err)
	defer shut(t, s)
	_, err = StartIMAP(t.Context(), Config{Port: s.Port()})
	assert.ErrorContains(t, err, "address already in use")
}
