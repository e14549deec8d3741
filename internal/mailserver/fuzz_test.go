package mailserver

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fuzz targets of this file play a client that sends any bytes at all
// to netgrade's mail servers, and check what a grading needs whatever a
// student's client does: the server greets, records every line without a
// line end in it and without the password, and the session ends within
// its deadline, whether the client closes after its bytes or stays
// connected until the grading's deadline stops the server.

// sessionWait bounds each step of a fuzzed session: a server that needs
// longer to close or to stop has hung.
const sessionWait = 5 * time.Second

// fuzzPassword is the account's password in the fuzzed sessions; it must
// never be recorded in clear.
const fuzzPassword = "fuzz-s3cret-pw"

type starter func(context.Context, Config) (Server, error)

// fuzzSession runs one session of input against the server start starts
// and checks it. With keepOpen, the client stays connected after its
// bytes and the start context ends (the grading's deadline); otherwise the
// client closes its sending side. It returns the server's lines.
func fuzzSession(t *testing.T, start starter, greeting string, input []byte, startTLS, keepOpen bool) []string {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var log Log
	s, err := start(ctx, Config{StartTLS: startTLS, User: "student", Password: fuzzPassword, Mailbox: Seed(), Recorder: &log})
	require.NoError(t, err)
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), sessionWait)
		defer scancel()
		s.Shutdown(sctx)
	}()
	c, err := net.DialTCP("tcp", nil, s.Addr())
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(3*sessionWait)))

	// The server's side is read as it comes, up to its close.
	type result struct {
		lines []string
		err   error
	}
	got := make(chan result, 1)
	br := bufio.NewReader(c)
	first, err := br.ReadString('\n')
	require.NoError(t, err, "the server greets")
	require.True(t, strings.HasPrefix(first, greeting), "greeting %q", first)
	go func() {
		lines := []string{strings.TrimRight(first, "\r\n")}
		for {
			l, err := br.ReadString('\n')
			if l != "" {
				lines = append(lines, strings.TrimRight(l, "\r\n"))
			}
			if err != nil {
				got <- result{lines, err}
				return
			}
		}
	}()
	_, werr := c.Write(input)
	if werr != nil && !isClosedByPeer(werr) {
		t.Fatalf("sending the client's bytes: %v", werr)
	}
	ended := time.Now()
	if keepOpen {
		cancel()
	} else {
		require.NoError(t, c.CloseWrite())
	}
	r := <-got
	if !errors.Is(r.err, io.EOF) && !isClosedByPeer(r.err) {
		t.Fatalf("the session did not end within %s of the client's last byte: %v", 3*sessionWait, r.err)
	}
	require.Less(t, time.Since(ended), 2*sessionWait, "the session ends soon after the client's last byte or the deadline")
	if keepOpen {
		select {
		case <-s.Done():
		case <-time.After(sessionWait):
			t.Fatal("the server did not stop with its context")
		}
	}

	sctx, scancel := context.WithTimeout(context.Background(), sessionWait)
	defer scancel()
	require.NoError(t, s.Shutdown(sctx))
	for _, e := range log.Events() {
		if e.Note != "" {
			continue
		}
		require.NotContains(t, e.Text, "\n", "a recorded line holds no line end")
		require.NotContains(t, e.Text, fuzzPassword, "the password is masked")
		require.Positive(t, e.Bytes)
	}
	d := s.(interface{ Dialogue() Dialogue }).Dialogue()
	require.Len(t, d.Conns, 1)
	assert.False(t, d.Conns[0].Closed.IsZero(), "the connection's end is recorded")
	assert.NotEmpty(t, d.Conns[0].ClosedBy, "who closed it is recorded")
	for _, cr := range d.Credentials {
		assert.NotContains(t, cr.Wire, fuzzPassword)
	}
	for _, cmd := range d.Commands {
		assert.NotContains(t, cmd.Line, fuzzPassword)
		assert.Equal(t, strings.ToUpper(cmd.Verb), cmd.Verb)
	}
	return r.lines
}

func isClosedByPeer(err error) bool {
	return err != nil && (errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "reset by peer") || strings.Contains(err.Error(), "broken pipe"))
}

// addSessions adds each dialogue as a seed, with and without TLS offered,
// the client closing or staying.
func addSessions(f *testing.F, dialogues ...string) {
	for _, d := range dialogues {
		for _, tls := range []bool{false, true} {
			f.Add([]byte(d), tls, false)
			f.Add([]byte(d), tls, true)
		}
	}
}

// smtpReplyLine is the form of every line an SMTP server sends.
var smtpReplyLine = regexp.MustCompile(`^[2-5]\d\d[ -]`)

// FuzzSMTPSession: any bytes a student's SMTP client sends. Every line
// the server sends in clear is an SMTP reply.
func FuzzSMTPSession(f *testing.F) {
	addSessions(f,
		"EHLO localhost\r\nMAIL FROM:<ann@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nSubject: hi\r\n\r\nhello\r\n..dot\r\n.\r\nQUIT\r\n",
		"HELO x\r\nAUTH PLAIN AHN0dWRlbnQAZnV6ei1zM2NyZXQtcHc=\r\nMAIL FROM:<a@b>\r\nQUIT\r\n",
		"EHLO x\r\nAUTH LOGIN\r\nc3R1ZGVudA==\r\nZnV6ei1zM2NyZXQtcHc=\r\n",
		"EHLO x\r\nAUTH PLAIN\r\n*\r\nBDAT 5 LAST\r\nhello",
		"EHLO x\r\nSTARTTLS\r\n\x16\x03\x01\x00\x05hello",
		"EHLO x\r\nMAIL FROM:<a@b> SMTPUTF8\r\nRCPT TO:<c\xc3\xa1c@b>\r\nDATA\r\n\xff\xfe\r\n",
		"\r\n\n\x00\r\nNOOP\nRSET\r\n",
	)
	f.Fuzz(func(t *testing.T, input []byte, startTLS, keepOpen bool) {
		lines := fuzzSession(t, func(ctx context.Context, c Config) (Server, error) { return StartSMTP(ctx, c) }, "220 ", input, startTLS, keepOpen)
		for i, l := range lines {
			require.Regexp(t, smtpReplyLine, l)
			if i > 0 && strings.HasPrefix(l, "220 ") {
				break // STARTTLS granted: TLS records follow
			}
		}
	})
}

// FuzzPOP3Session: any bytes a student's POP3 client sends.
func FuzzPOP3Session(f *testing.F) {
	addSessions(f,
		"USER student\r\nPASS fuzz-s3cret-pw\r\nSTAT\r\nLIST\r\nLIST 2\r\nUIDL\r\nTOP 3 2\r\nRETR 1\r\nDELE 9\r\nDELE 1\r\nRSET\r\nQUIT\r\n",
		"CAPA\r\nSTLS\r\n\x16\x03\x01\x00\x05hello",
		"AUTH PLAIN\r\nAHN0dWRlbnQAZnV6ei1zM2NyZXQtcHc=\r\nSTAT\r\n",
		"APOP student 0123456789abcdef\r\nUSER\r\nPASS\r\nLIST x\r\nTOP\r\nNOOP\r\n",
		"USER student\r\nPASS wrong\r\nUSER student\r\nPASS fuzz-s3cret-pw\r\nDELE 1\r\nDELE 2\r\nQUIT\r\n",
	)
	f.Fuzz(func(t *testing.T, input []byte, startTLS, keepOpen bool) {
		lines := fuzzSession(t, func(ctx context.Context, c Config) (Server, error) { return StartPOP3(ctx, c) }, "+OK", input, startTLS, keepOpen)
		require.NotEmpty(t, lines)
	})
}

// FuzzIMAPSession: any bytes a student's IMAP client sends.
func FuzzIMAPSession(f *testing.F) {
	addSessions(f,
		"a1 CAPABILITY\r\na2 LOGIN student fuzz-s3cret-pw\r\na3 SELECT INBOX\r\na4 FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])\r\na5 STORE 2 +FLAGS (\\Deleted)\r\na6 EXPUNGE\r\na7 LOGOUT\r\n",
		"a1 LOGIN {7}\r\nstudent {14}\r\nfuzz-s3cret-pw\r\na2 EXAMINE INBOX\r\na3 UID FETCH 1:* (UID RFC822.SIZE)\r\na4 CLOSE\r\n",
		"a1 AUTHENTICATE PLAIN\r\nAHN0dWRlbnQAZnV6ei1zM2NyZXQtcHc=\r\na2 LIST \"\" *\r\na3 STATUS INBOX (MESSAGES UNSEEN)\r\n",
		"a1 STARTTLS\r\n\x16\x03\x01\x00\x05hello",
		"a1 LOGIN student fuzz-s3cret-pw\r\na2 SELECT INBOX\r\na3 SEARCH UNSEEN\r\na4 IDLE\r\nDONE\r\na5 APPEND INBOX {5+}\r\nhello\r\n",
		"* BAD\r\n)(\r\n{999999999}\r\n",
	)
	f.Fuzz(func(t *testing.T, input []byte, startTLS, keepOpen bool) {
		fuzzSession(t, func(ctx context.Context, c Config) (Server, error) { return StartIMAP(ctx, c) }, "* OK", input, startTLS, keepOpen)
	})
}

// TestStartTLSCutByClose is what FuzzSMTPSession and FuzzPOP3Session
// found: a client that sends STARTTLS (STLS) without its line end and then
// closes. The relay waited for the server's verdict, which the library
// never gave (it waits for the line end), and held the connection open
// until the grading's deadline; it must see the client's close at once.
func TestStartTLSCutByClose(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start starter
		send  string
	}{
		{"smtp", func(ctx context.Context, c Config) (Server, error) { return StartSMTP(ctx, c) }, "EHLO x\r\nSTARTTLS"},
		{"pop3", func(ctx context.Context, c Config) (Server, error) { return StartPOP3(ctx, c) }, "CAPA\r\nSTLS"},
		{"imap", func(ctx context.Context, c Config) (Server, error) { return StartIMAP(ctx, c) }, "a1 STARTTLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.start(t.Context(), Config{StartTLS: true, Mailbox: Seed()})
			require.NoError(t, err)
			defer s.Shutdown(context.Background())
			c, err := net.DialTCP("tcp", nil, s.Addr())
			require.NoError(t, err)
			defer c.Close()
			_, err = io.WriteString(c, tc.send)
			require.NoError(t, err)
			require.NoError(t, c.CloseWrite())
			require.NoError(t, c.SetReadDeadline(time.Now().Add(2*time.Second)))
			_, err = io.ReadAll(c)
			require.NoError(t, err, "netgrade closes the connection once the client has")
			require.NoError(t, s.Shutdown(context.Background()))
			d := s.(interface{ Dialogue() Dialogue }).Dialogue()
			require.Len(t, d.Conns, 1)
			assert.Equal(t, "client", d.Conns[0].ClosedBy)
		})
	}
}
