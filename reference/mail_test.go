package reference

import (
	"bytes"
	"context"
	"mime"
	"net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/mailserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runRef runs a reference program with a deadline and returns its exit
// status and output.
func runRef(t *testing.T, name string, run Main, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	// The name is what the messages start with; the synopsis is as long as
	// args, so that a test runs the program and never its usage error.
	cmd := Command{Name: name, Synopsis: strings.TrimSpace("HOST PORT " + strings.Repeat("ARG ", len(args)-2))}
	code := run(ctx, cmd, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func stop(t *testing.T, s mailserver.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, s.Shutdown(ctx))
}

// listing is what POPClient and IMAPClient must print for the seed.
const listing = "4 messages\n" +
	"1: Alice Martin <alice.martin@example.org> | Meeting on Monday\n" +
	"2: Béatrice Nguyễn <beatrice@example.org> | Xin chào các bạn\n" +
	"3: bob@example.org | Config files\n" +
	"4: Support Team <support@example.com> | Résumé of the week — attached\n"

func TestSMTPClient(t *testing.T) {
	for _, tls := range []bool{true, false} {
		t.Run("starttls="+strconv.FormatBool(tls), func(t *testing.T) {
			s, err := mailserver.StartSMTP(t.Context(), mailserver.Config{StartTLS: tls})
			require.NoError(t, err)
			code, out, errOut := runRef(t, "smtp-client", SMTPClient, "127.0.0.1", strconv.Itoa(s.Port()), "alice@example.org", "bob@example.org", "Chào các bạn", "Xin chào các bạn,\nhẹn gặp lại!")
			stop(t, s)
			assert.Equal(t, 0, code, errOut)
			assert.Empty(t, out)
			f := s.Facts()
			assert.Equal(t, "EHLO", f.Greeting)
			assert.Equal(t, []string{"alice@example.org"}, f.MailFrom)
			assert.Equal(t, tls, f.TLSStarted())
			assert.True(t, f.Quit)
			require.Len(t, f.Messages, 1)
			assert.Equal(t, tls, f.Messages[0].TLS)
			msg, err := mail.ReadMessage(bytes.NewReader(f.Messages[0].Data))
			require.NoError(t, err)
			subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			require.NoError(t, err)
			assert.Equal(t, "Chào các bạn", subject)
			assert.NotContains(t, string(f.Messages[0].Data), "à", "8-bit text only in MIME encodings")
			_, err = msg.Header.Date()
			assert.NoError(t, err)
		})
	}
}

func TestSMTPClientRefused(t *testing.T) {
	s, err := mailserver.StartSMTP(t.Context(), mailserver.Config{StartTLS: true, Refuse: []string{"nobody@example.org"}})
	require.NoError(t, err)
	code, _, errOut := runRef(t, "smtp-client", SMTPClient, "localhost", strconv.Itoa(s.Port()), "alice@example.org", "nobody@example.org", "s", "m")
	stop(t, s)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "smtp-client: the server refused the recipient nobody@example.org: 550 ")
	assert.True(t, s.Facts().Quit)
}

func TestListClients(t *testing.T) {
	type facts struct {
		tls     bool
		inClear int
		quit    bool
		changes int
	}
	for _, tc := range []struct {
		name string
		run  Main
		get  func(t *testing.T, tls bool, pass string) (int, string, string, facts)
	}{
		{"pop", POPClient, func(t *testing.T, tls bool, pass string) (int, string, string, facts) {
			s, err := mailserver.StartPOP3(t.Context(), mailserver.Config{StartTLS: tls, Mailbox: mailserver.Seed()})
			require.NoError(t, err)
			code, out, errOut := runRef(t, "pop-client", POPClient, "127.0.0.1", strconv.Itoa(s.Port()), mailserver.SeedUser, pass)
			stop(t, s)
			f := s.Facts()
			assert.Empty(t, f.Dele)
			return code, out, errOut, facts{f.TLSStarted(), len(f.InClear()), f.Quit, len(f.Changes)}
		}},
		{"imap", IMAPClient, func(t *testing.T, tls bool, pass string) (int, string, string, facts) {
			s, err := mailserver.StartIMAP(t.Context(), mailserver.Config{StartTLS: tls, Mailbox: mailserver.Seed()})
			require.NoError(t, err)
			code, out, errOut := runRef(t, "imap-client", IMAPClient, "127.0.0.1", strconv.Itoa(s.Port()), mailserver.SeedUser, pass)
			stop(t, s)
			f := s.Facts()
			if code == 0 {
				assert.Equal(t, []mailserver.Select{{Mailbox: "INBOX", ReadOnly: true}}, f.Selects)
			}
			return code, out, errOut, facts{f.TLSStarted(), len(f.InClear()), f.Logout, len(f.Changes)}
		}},
	} {
		for _, tls := range []bool{true, false} {
			t.Run(tc.name+"/starttls="+strconv.FormatBool(tls), func(t *testing.T) {
				code, out, errOut, f := tc.get(t, tls, mailserver.SeedPassword)
				assert.Equal(t, 0, code, errOut)
				assert.Equal(t, listing, out)
				inClear := 1
				if tls {
					inClear = 0
				}
				assert.Equal(t, facts{tls: tls, inClear: inClear, quit: true}, f)
			})
		}
		t.Run(tc.name+"/wrong password", func(t *testing.T) {
			code, out, errOut, _ := tc.get(t, true, "wrong-password")
			assert.Equal(t, 1, code)
			assert.Empty(t, out)
			assert.True(t, strings.HasPrefix(errOut, tc.name+"-client: login refused: "), errOut)
		})
	}
}
