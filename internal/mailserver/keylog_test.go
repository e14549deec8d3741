package mailserver

import (
	"bytes"
	"crypto/tls"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// lockedBuffer is a bytes.Buffer safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestKeyLog: a server given a KeyLog writes the secrets of the client's
// TLS session there, in NSS key log format, for a capture Wireshark
// decrypts.
func TestKeyLog(t *testing.T) {
	var keys lockedBuffer
	s, err := StartSMTP(t.Context(), Config{StartTLS: true, KeyLog: &keys})
	assert.NilError(t, err)
	c, err := smtp.DialStartTLS(s.Addr().String(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // netgrade's own certificate
	assert.NilError(t, err)
	assert.NilError(t, c.Quit())
	shut(t, s)
	log := keys.String()
	assert.Check(t, is.Contains(log, "CLIENT_TRAFFIC_SECRET_0 "), "TLS 1.3 secrets: %q", log)
	for _, l := range strings.Split(strings.TrimSpace(log), "\n") {
		assert.Check(t, is.Len(strings.Fields(l), 3), "an NSS key log line: LABEL CLIENT_RANDOM SECRET: %q", l)
	}
}
