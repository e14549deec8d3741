package mailserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// needPython returns python3's path: the test fails without it when
// NETGRADE_REQUIRE_PYTHON=1, and skips saying so otherwise.
func needPython(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("NETGRADE_REQUIRE_PYTHON") == "1" {
			t.Fatalf("python3 is required (NETGRADE_REQUIRE_PYTHON=1) but not found: %v", err)
		}
		t.Skipf("SKIPPED: python3 not found on PATH (%v): the servers are not tried with smtplib, poplib and imaplib", err)
	}
	return p
}

// pyResult is what a client script printed, as JSON.
type pyResult map[string]any

// runClient runs testdata/SCRIPT against port with a scenario, as a
// student's machine would (PYTHONUNBUFFERED unset), and decodes its JSON.
func runClient(t *testing.T, script string, port int, scenario, user, pass string) pyResult {
	t.Helper()
	py := needPython(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join("testdata", script), strconv.Itoa(port), scenario, user, pass)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PYTHONUNBUFFERED=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "%s %s: %s", script, scenario, stderr.String())
	var out pyResult
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &out), stdout.String())
	return out
}

// b64s decodes a list of base64 strings from a result.
func b64s(t *testing.T, v any) [][]byte {
	t.Helper()
	list, ok := v.([]any)
	require.True(t, ok, "%v is not a list", v)
	out := make([][]byte, len(list))
	for i, s := range list {
		b, err := base64.StdEncoding.DecodeString(s.(string))
		require.NoError(t, err)
		out[i] = b
	}
	return out
}

// shut stops a server and waits for it.
func shut(t *testing.T, s Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, s.Shutdown(ctx))
}

// smtpSent is the message testdata/smtp_client.py sends, as the server
// must receive it: dot-unstuffed, byte for byte.
var smtpSent = "From: Alice <alice@example.org>\r\n" +
	"To: bob@example.org\r\n" +
	"Subject: =?utf-8?b?WGluIGNow6BvIGPDoWMgYuG6oW4=?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: 8bit\r\n" +
	"\r\n" +
	".htaccess\r\n" +
	".\r\n" +
	"..\r\n" +
	"xà các bạn\r\n"

func TestSMTPWithSmtplib(t *testing.T) {
	const user, pass = "alice", "correct-horse-42"
	for _, tc := range []struct {
		name, scenario string
		cfg            Config
		check          func(t *testing.T, out pyResult, f SMTPFacts, log string)
	}{
		{
			name: "plain", scenario: "send",
			check: func(t *testing.T, out pyResult, f SMTPFacts, log string) {
				assert.Equal(t, true, out["sent"])
				assert.Equal(t, false, out["starttls_offered"])
				assert.Equal(t, "EHLO", f.Greeting)
				assert.Equal(t, []string{"alice@example.org"}, f.MailFrom)
				assert.Equal(t, []Recipient{{Addr: "bob@example.org"}}, f.Rcpt)
				require.Len(t, f.Messages, 1)
				assert.Equal(t, smtpSent, string(f.Messages[0].Data))
				assert.False(t, f.Messages[0].TLS)
				assert.True(t, f.Quit)
				assert.Contains(t, log, "C: ..htaccess\n", "the dialogue shows the dot-stuffed line as sent")
				assert.Contains(t, log, "C: QUIT\nS: 221 ")
			},
		},
		{
			name: "starttls-login", scenario: "starttls-login",
			cfg: Config{StartTLS: true, User: user, Password: pass, RequireLogin: true},
			check: func(t *testing.T, out pyResult, f SMTPFacts, log string) {
				assert.Equal(t, true, out["starttls_offered"])
				assert.Equal(t, true, out["sent"])
				assert.True(t, f.TLSStarted())
				require.Len(t, f.Credentials, 1)
				assert.True(t, f.Credentials[0].TLS)
				assert.Equal(t, "AUTH PLAIN", f.Credentials[0].Mechanism)
				assert.Equal(t, user, f.Credentials[0].User)
				assert.Equal(t, len(pass), f.Credentials[0].PasswordLen)
				assert.Empty(t, f.InClear())
				require.Len(t, f.Messages, 1)
				assert.True(t, f.Messages[0].TLS)
				assert.Equal(t, smtpSent, string(f.Messages[0].Data))
				assert.Contains(t, log, "C: STARTTLS\nS: 220 ")
				assert.Contains(t, log, `C~ AUTH PLAIN <base64 of "\x00alice\x00****************">`)
			},
		},
		{
			name: "login in clear", scenario: "clear-login",
			cfg: Config{StartTLS: true, User: user, Password: pass},
			check: func(t *testing.T, out pyResult, f SMTPFacts, log string) {
				assert.Equal(t, true, out["sent"])
				assert.False(t, f.TLSStarted())
				clear := f.InClear()
				require.Len(t, clear, 1)
				assert.Equal(t, `AUTH PLAIN <base64 of "\x00alice\x00****************">`, clear[0].Wire)
			},
		},
		{
			name: "refused recipient", scenario: "refused",
			cfg: Config{Refuse: []string{"nobody@example.org"}},
			check: func(t *testing.T, out pyResult, f SMTPFacts, log string) {
				assert.Equal(t, map[string]any{"nobody@example.org": 550.0}, out["refused"])
				assert.Equal(t, []Recipient{{Addr: "nobody@example.org", Refused: true}}, f.Rcpt)
				assert.Empty(t, f.Messages)
				assert.Contains(t, log, "S: 550 5.1.1 <nobody@example.org>: no such user here\n")
			},
		},
		{
			name: "wrong password", scenario: "wrong-password",
			cfg: Config{StartTLS: true, User: user, Password: "another-password", RequireLogin: true},
			check: func(t *testing.T, out pyResult, f SMTPFacts, log string) {
				assert.Equal(t, 535.0, out["auth_error"])
				assert.Contains(t, out["send_error"], "Please authenticate first")
				assert.Empty(t, f.Messages)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var log Log
			tc.cfg.Recorder = &log
			tc.cfg.Secrets = []string{pass}
			s, err := StartSMTP(t.Context(), tc.cfg)
			require.NoError(t, err)
			out := runClient(t, "smtp_client.py", s.Port(), tc.scenario, user, pass)
			shut(t, s)
			text := log.String()
			assert.NotContains(t, text, pass, "a password is never recorded")
			assert.NotContains(t, text, base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+pass)))
			tc.check(t, out, s.Facts(), text)
		})
	}
}

func TestPOP3WithPoplib(t *testing.T) {
	seed := Seed()
	for _, tc := range []struct {
		name, scenario string
		pass           string
		tls            bool
		check          func(t *testing.T, out pyResult, f POP3Facts, log string)
	}{
		{
			name: "stls and read", scenario: "stls-read", pass: SeedPassword, tls: true,
			check: func(t *testing.T, out pyResult, f POP3Facts, log string) {
				assert.Contains(t, out["capa"], "STLS")
				assert.Equal(t, 4.0, out["count"])
				retr := b64s(t, out["retr"])
				require.Len(t, retr, len(seed))
				for i, m := range seed {
					assert.Equal(t, string(m.Raw), string(retr[i]), "message %d read back byte for byte", i+1)
					head, _, _ := bytes.Cut(m.Raw, []byte("\r\n\r\n"))
					assert.Equal(t, string(head)+"\r\n\r\n", string(b64s(t, out["top"])[i]), "TOP %d 0", i+1)
				}
				assert.True(t, f.LoggedIn)
				assert.True(t, f.TLSStarted())
				assert.Empty(t, f.InClear())
				require.Len(t, f.Credentials, 1)
				assert.Equal(t, "USER/PASS", f.Credentials[0].Mechanism)
				require.NotEmpty(t, f.Clear)
				assert.Equal(t, "+OK Begin TLS negotiation", f.Clear[len(f.Clear)-1].Text, "nothing in clear after STLS")
				assert.Equal(t, []int{1, 2, 3, 4}, f.Retrieved)
				assert.Equal(t, []int{1, 2, 3, 4}, f.Top)
				assert.Empty(t, f.Dele)
				assert.Empty(t, f.Changes)
				assert.True(t, f.Quit)
				assert.Contains(t, log, "C~ PASS *****************\n")
				assert.Contains(t, log, "S~ ..htaccess\nS~ ...hidden\nS~ ..\n", "RETR dot-stuffs the body")
			},
		},
		{
			name: "login in clear", scenario: "read", pass: SeedPassword, tls: true,
			check: func(t *testing.T, out pyResult, f POP3Facts, log string) {
				assert.Equal(t, 4.0, out["count"])
				assert.False(t, f.TLSStarted())
				clear := f.InClear()
				require.Len(t, clear, 1)
				assert.Equal(t, "USER student\nPASS *****************", clear[0].Wire)
				assert.Contains(t, log, "C: USER student\nS: +OK send PASS\nC: PASS *****************\n")
				read := f.ClearUntil(clear[0].Conn, clear[0].At)
				require.NotEmpty(t, read)
				assert.Equal(t, "+OK netgrade POP3 server ready", read[0].Text)
				assert.Equal(t, "PASS *****************", read[len(read)-2].Text)
				assert.True(t, strings.HasPrefix(read[len(read)-1].Text, "+OK logged in"), "the eavesdropper read the server's answer too")
			},
		},
		{
			name: "wrong password", scenario: "stls-read", pass: "not-the-password", tls: true,
			check: func(t *testing.T, out pyResult, f POP3Facts, log string) {
				assert.Equal(t, "-ERR [AUTH] invalid user name or password", out["login_error"])
				assert.False(t, f.LoggedIn)
				assert.Equal(t, 1, f.FailedLogins)
				assert.Contains(t, log, "C~ PASS ****************\n")
			},
		},
		{
			name: "dele then quit", scenario: "dele-quit", pass: SeedPassword,
			check: func(t *testing.T, out pyResult, f POP3Facts, log string) {
				assert.Equal(t, []int{1, 3}, f.Dele)
				assert.Equal(t, []int{1, 3}, f.Pending)
				assert.Equal(t, []Change{{N: 1, Gone: true}, {N: 3, Gone: true}}, f.Changes)
			},
		},
		{
			name: "dele then rset", scenario: "dele-rset", pass: SeedPassword,
			check: func(t *testing.T, out pyResult, f POP3Facts, log string) {
				assert.Equal(t, []int{1, 3}, f.Dele)
				assert.Empty(t, f.Pending)
				assert.Empty(t, f.Changes)
			},
		},
		{
			name: "dele without quit", scenario: "dele-noquit", pass: SeedPassword,
			check: func(t *testing.T, out pyResult, f POP3Facts, log string) {
				assert.Equal(t, []int{1, 3}, f.Pending)
				assert.Empty(t, f.Changes, "no QUIT, no UPDATE state")
				assert.False(t, f.Quit)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var log Log
			s, err := StartPOP3(t.Context(), Config{StartTLS: tc.tls, Mailbox: seed, Recorder: &log, Secrets: []string{tc.pass}})
			require.NoError(t, err)
			out := runClient(t, "pop_client.py", s.Port(), tc.scenario, SeedUser, tc.pass)
			shut(t, s)
			text := log.String()
			assert.NotContains(t, text, tc.pass)
			tc.check(t, out, s.Facts(), text)
		})
	}
}

func TestIMAPWithImaplib(t *testing.T) {
	seed := Seed()
	for _, tc := range []struct {
		name, scenario string
		pass           string
		check          func(t *testing.T, out pyResult, f IMAPFacts, log string)
	}{
		{
			name: "starttls examine", scenario: "starttls-examine", pass: SeedPassword,
			check: func(t *testing.T, out pyResult, f IMAPFacts, log string) {
				assert.Equal(t, true, out["starttls_offered"])
				msgs := b64s(t, out["messages"])
				require.Len(t, msgs, len(seed))
				for i, m := range seed {
					assert.Equal(t, string(m.Raw), string(msgs[i]), "message %d read back byte for byte", i+1)
				}
				assert.True(t, f.TLSStarted())
				assert.Empty(t, f.InClear())
				assert.Equal(t, []Select{{Mailbox: "INBOX", ReadOnly: true}}, f.Selects)
				assert.Equal(t, []string{"FETCH 1 (RFC822)", "FETCH 2 (RFC822)", "FETCH 3 (RFC822)", "FETCH 4 (RFC822)"}, f.Fetches)
				assert.Empty(t, f.Changes, "EXAMINE is read-only: RFC822 sets no flag")
				assert.True(t, f.Logout)
				assert.Contains(t, log, `C~ `)
				assert.Regexp(t, `C~ \w+ LOGIN student "\*{17}"`, log)
			},
		},
		{
			name: "select marks read", scenario: "starttls-select", pass: SeedPassword,
			check: func(t *testing.T, out pyResult, f IMAPFacts, log string) {
				assert.Equal(t, []Select{{Mailbox: "INBOX"}}, f.Selects)
				assert.Equal(t, []int{2, 3, 4}, SeenSet(f.Changes), "message 1 was seen already")
				assert.Empty(t, Gone(f.Changes))
			},
		},
		{
			name: "select with peek", scenario: "starttls-select-peek", pass: SeedPassword,
			check: func(t *testing.T, out pyResult, f IMAPFacts, log string) {
				assert.Len(t, b64s(t, out["messages"]), 4)
				assert.Empty(t, f.Changes)
			},
		},
		{
			name: "login in clear and delete", scenario: "select-peek-delete", pass: SeedPassword,
			check: func(t *testing.T, out pyResult, f IMAPFacts, log string) {
				clear := f.InClear()
				require.Len(t, clear, 1)
				assert.Equal(t, "LOGIN", clear[0].Mechanism)
				assert.Equal(t, SeedUser, clear[0].User)
				assert.Equal(t, []Change{{N: 2, Gone: true}}, f.Changes)
				assert.Equal(t, []string{`STORE 2 +FLAGS (\Deleted)`}, f.Stores)
			},
		},
		{
			name: "wrong password", scenario: "starttls-examine", pass: "not-the-password",
			check: func(t *testing.T, out pyResult, f IMAPFacts, log string) {
				assert.Contains(t, out["login_error"], "AUTHENTICATIONFAILED")
				assert.False(t, f.LoggedIn)
				assert.Equal(t, 1, f.FailedLogins)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var log Log
			s, err := StartIMAP(t.Context(), Config{StartTLS: true, Mailbox: seed, Recorder: &log, Secrets: []string{tc.pass}})
			require.NoError(t, err)
			out := runClient(t, "imap_client.py", s.Port(), tc.scenario, SeedUser, tc.pass)
			shut(t, s)
			text := log.String()
			assert.NotContains(t, text, tc.pass)
			tc.check(t, out, s.Facts(), text)
		})
	}
}
