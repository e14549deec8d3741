package mailserver

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// needTool returns a tool's path: the test fails without it when
// NETGRADE_REQUIRE_MAIL_CLIENTS=1, and skips saying so otherwise.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("NETGRADE_REQUIRE_MAIL_CLIENTS") == "1" {
			t.Fatalf("%s is required (NETGRADE_REQUIRE_MAIL_CLIENTS=1) but not found: %v", name, err)
		}
		t.Skipf("SKIPPED: %s not found on PATH (%v): the servers are not tried with it", name, err)
	}
	return p
}

// runTool runs a real client with a deadline and returns its stdout.
func runTool(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, needTool(t, name), args...)
	out, err := cmd.Output()
	var stderr []byte
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = ee.Stderr
	}
	require.NoError(t, err, "%s: %s", name, stderr)
	return out
}

// TestRealClients tries the servers with clients that are not Python's:
// curl (POP3 with STLS, IMAP with STARTTLS) and swaks (SMTP with STARTTLS
// and AUTH PLAIN).
func TestRealClients(t *testing.T) {
	seed := Seed()
	t.Run("curl pop3", func(t *testing.T) {
		s, err := StartPOP3(t.Context(), Config{StartTLS: true, Mailbox: seed})
		require.NoError(t, err)
		out := runTool(t, "curl", "-s", "-k", "--ssl-reqd", "--user", SeedUser+":"+SeedPassword,
			"pop3://127.0.0.1:"+strconv.Itoa(s.Port())+"/3")
		shut(t, s)
		assert.Equal(t, string(seed[2].Raw), string(out), "the dot-stuffed message comes back byte for byte")
		f := s.Facts()
		assert.True(t, f.TLSStarted())
		assert.Empty(t, f.InClear())
		assert.Equal(t, []int{3}, f.Retrieved)
	})
	t.Run("curl imap", func(t *testing.T) {
		s, err := StartIMAP(t.Context(), Config{StartTLS: true, Mailbox: seed})
		require.NoError(t, err)
		out := runTool(t, "curl", "-s", "-k", "--ssl-reqd", "--user", SeedUser+":"+SeedPassword,
			"imap://127.0.0.1:"+strconv.Itoa(s.Port())+"/INBOX;UID=4")
		shut(t, s)
		assert.Equal(t, string(seed[3].Raw), string(out))
		f := s.Facts()
		assert.True(t, f.TLSStarted())
		assert.Empty(t, f.InClear())
		require.NotEmpty(t, f.Credentials)
		assert.Equal(t, "AUTHENTICATE PLAIN", f.Credentials[0].Mechanism, "curl authenticates with SASL PLAIN")
		assert.Equal(t, []int{4}, SeenSet(f.Changes), "curl SELECTs and fetches BODY[]: the message is marked read")
	})
	t.Run("swaks smtp", func(t *testing.T) {
		var log Log
		s, err := StartSMTP(t.Context(), Config{StartTLS: true, User: "ann", Password: "swaks-pass-99", RequireLogin: true, Recorder: &log})
		require.NoError(t, err)
		runTool(t, "swaks", "--server", "127.0.0.1:"+strconv.Itoa(s.Port()), "--tls",
			"--auth", "PLAIN", "--auth-user", "ann", "--auth-password", "swaks-pass-99",
			"--from", "ann@example.org", "--to", "bob@example.org", "--header", "Subject: from swaks", "--body", "hello")
		shut(t, s)
		f := s.Facts()
		assert.Equal(t, "EHLO", f.Greeting)
		assert.True(t, f.TLSStarted())
		assert.Empty(t, f.InClear())
		require.Len(t, f.Messages, 1)
		assert.True(t, f.Messages[0].TLS)
		assert.Contains(t, string(f.Messages[0].Data), "Subject: from swaks\r\n")
		assert.True(t, f.Quit)
		assert.NotContains(t, log.String(), "swaks-pass-99")
	})
}
