package mailserver

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// step is one line fed to a dialect: "C: ..." from the client, "S: ..."
// from the server.
type step = string

// dialogueResult is what a dialect made of a dialogue.
type dialogueResult struct {
	texts    []string // every line as recorded, "C: "/"S: " prefixed
	verbs    []string
	creds    []Credential
	verdicts []tlsVerdict
	startTLS int
}

func feed(d dialect, steps []step) dialogueResult {
	var r dialogueResult
	for _, s := range steps {
		raw := []byte(s[3:] + "\r\n")
		if strings.HasPrefix(s, "C: ") {
			cl := d.client(raw, false)
			r.texts = append(r.texts, "C: "+cl.text)
			if cl.verb != "" {
				r.verbs = append(r.verbs, cl.verb)
			}
			if cl.cred != nil {
				r.creds = append(r.creds, *cl.cred)
			}
			if cl.startTLS {
				r.startTLS++
			}
			continue
		}
		r.texts = append(r.texts, "S: "+trimEOL(raw))
		if v := d.server(raw); v != noVerdict {
			r.verdicts = append(r.verdicts, v)
		}
	}
	return r
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestDialects(t *testing.T) {
	for _, tc := range []struct {
		name     string
		d        func() dialect
		steps    []step
		texts    []string // the recorded client lines that differ from the sent ones, in order
		verbs    []string
		creds    []Credential
		verdicts []tlsVerdict
	}{
		{
			name: "smtp auth plain initial response", d: newSMTPDialect,
			steps: []step{"S: 220 hi", "C: EHLO me", "S: 250-hi", "S: 250 AUTH PLAIN", "C: AUTH PLAIN " + b64("\x00ann\x00secret1"), "S: 235 ok", "C: QUIT", "S: 221 bye"},
			texts: []string{`C: AUTH PLAIN <base64 of "\x00ann\x00*******">`},
			verbs: []string{"EHLO", "AUTH", "QUIT"},
			creds: []Credential{{Mechanism: "AUTH PLAIN", User: "ann", PasswordLen: 7, Wire: `AUTH PLAIN <base64 of "\x00ann\x00*******">`}},
		},
		{
			name: "smtp auth plain after 334", d: newSMTPDialect,
			steps: []step{"S: 220 hi", "C: AUTH PLAIN", "S: 334 ", "C: " + b64("\x00ann\x00pw"), "S: 235 ok", "C: NOOP", "S: 250 ok"},
			texts: []string{`C: <base64 of "\x00ann\x00**">`},
			verbs: []string{"AUTH", "NOOP"},
			creds: []Credential{{Mechanism: "AUTH PLAIN", User: "ann", PasswordLen: 2, Wire: `AUTH PLAIN <base64 of "\x00ann\x00**">`}},
		},
		{
			name: "smtp auth login", d: newSMTPDialect,
			steps: []step{"S: 220 hi", "C: AUTH LOGIN", "S: 334 VXNlcm5hbWU6", "C: " + b64("ann"), "S: 334 UGFzc3dvcmQ6", "C: " + b64("hunter22"), "S: 535 no"},
			texts: []string{"C: " + b64("ann") + ` <base64 of "ann">`, `C: <base64 of "********">`},
			verbs: []string{"AUTH"},
			creds: []Credential{{Mechanism: "AUTH LOGIN", User: "ann", PasswordLen: 8, Wire: `AUTH LOGIN: user "ann", password ********`}},
		},
		{
			name: "smtp data is not commands", d: newSMTPDialect,
			steps: []step{"S: 220 hi", "C: MAIL FROM:<a@b>", "C: RCPT TO:<c@d>", "C: DATA", "S: 250 ok", "S: 250 ok", "S: 354 go", "C: QUIT", "C: ..", "C: .", "S: 250 queued", "C: QUIT", "S: 221 bye"},
			verbs: []string{"MAIL", "RCPT", "DATA", "QUIT"},
		},
		{
			name: "smtp starttls granted after pipelined replies", d: newSMTPDialect,
			steps:    []step{"S: 220 hi", "C: EHLO me", "S: 250-hi", "S: 250 STARTTLS", "C: STARTTLS", "S: 220 go ahead"},
			verbs:    []string{"EHLO", "STARTTLS"},
			verdicts: []tlsVerdict{tlsGranted},
		},
		{
			name: "smtp starttls refused", d: newSMTPDialect,
			steps:    []step{"S: 220 hi", "C: STARTTLS", "S: 502 5.5.1 TLS not supported"},
			verbs:    []string{"STARTTLS"},
			verdicts: []tlsVerdict{tlsRefused},
		},
		{
			name: "pop user pass", d: newPOPDialect,
			steps: []step{"S: +OK hi", "C: USER ann", "S: +OK", "C: PASS two words", "S: +OK in", "C: RETR 1", "S: +OK", "S: +OK not a reply", "S: .", "C: QUIT", "S: +OK"},
			texts: []string{"C: PASS *********"},
			verbs: []string{"USER", "PASS", "RETR", "QUIT"},
			creds: []Credential{{Mechanism: "USER/PASS", User: "ann", PasswordLen: 9, Wire: "USER ann\nPASS *********"}},
		},
		{
			name: "pop stls after capa", d: newPOPDialect,
			steps:    []step{"S: +OK hi", "C: CAPA", "S: +OK", "S: STLS", "S: .", "C: STLS", "S: +OK begin"},
			verbs:    []string{"CAPA", "STLS"},
			verdicts: []tlsVerdict{tlsGranted},
		},
		{
			name: "pop auth plain", d: newPOPDialect,
			steps: []step{"S: +OK hi", "C: AUTH PLAIN", "S: + ", "C: " + b64("\x00ann\x00pw1"), "S: +OK"},
			texts: []string{`C: <base64 of "\x00ann\x00***">`},
			verbs: []string{"AUTH"},
			creds: []Credential{{Mechanism: "AUTH PLAIN", User: "ann", PasswordLen: 3, Wire: `AUTH PLAIN <base64 of "\x00ann\x00***">`}},
		},
		{
			name: "imap login quoted", d: newIMAPDialect,
			steps: []step{"S: * OK hi", `C: a1 LOGIN ann "p w\"x"`, "S: a1 OK"},
			texts: []string{`C: a1 LOGIN ann "*****"`},
			verbs: []string{"LOGIN"},
			creds: []Credential{{Mechanism: "LOGIN", User: "ann", PasswordLen: 5, Wire: "a1 LOGIN ann *****"}},
		},
		{
			name: "imap login atom", d: newIMAPDialect,
			steps: []step{"S: * OK hi", "C: a1 LOGIN ann secret", "S: a1 NO [AUTHENTICATIONFAILED] no"},
			texts: []string{"C: a1 LOGIN ann ******"},
			verbs: []string{"LOGIN"},
			creds: []Credential{{Mechanism: "LOGIN", User: "ann", PasswordLen: 6, Wire: "a1 LOGIN ann ******"}},
		},
		{
			name: "imap login literals", d: newIMAPDialect,
			steps: []step{"S: * OK hi", "C: a1 LOGIN {3}", "S: + ready", "C: ann {6}", "S: + ready", "C: secret", "S: a1 OK"},
			texts: []string{"C: ******"},
			verbs: []string{"LOGIN"},
			creds: []Credential{{Mechanism: "LOGIN", User: "ann", PasswordLen: 6, Wire: "a1 LOGIN ann ******"}},
		},
		{
			name: "imap authenticate plain", d: newIMAPDialect,
			steps: []step{"S: * OK hi", "C: a1 AUTHENTICATE PLAIN", "S: + ", "C: " + b64("\x00ann\x00pw"), "S: a1 OK", "C: a2 UID FETCH 1:* (FLAGS)", "S: a2 OK"},
			texts: []string{`C: <base64 of "\x00ann\x00**">`},
			verbs: []string{"AUTHENTICATE", "UID FETCH"},
			creds: []Credential{{Mechanism: "AUTHENTICATE PLAIN", User: "ann", PasswordLen: 2, Wire: `AUTHENTICATE PLAIN <base64 of "\x00ann\x00**">`}},
		},
		{
			name: "imap append literal is not a command", d: newIMAPDialect,
			steps: []step{"S: * OK hi", "C: a1 APPEND INBOX {9}", "S: + go", "C: a2 NOOP", "S: a1 OK", "C: a3 NOOP", "S: a3 OK"},
			verbs: []string{"APPEND", "NOOP"},
		},
		{
			name: "imap starttls after a server literal", d: newIMAPDialect,
			steps:    []step{"S: * OK hi", "C: a1 STARTTLS", "S: * 1 FETCH (BODY[] {8}", "S: a1 NO", "S: )", "S: a1 OK begin"},
			verbs:    []string{"STARTTLS"},
			verdicts: []tlsVerdict{tlsGranted},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := feed(tc.d(), tc.steps)
			var changed []string
			sent := 0
			for i, s := range tc.steps {
				if strings.HasPrefix(s, "C: ") && r.texts[i] != s {
					changed = append(changed, r.texts[i])
				}
				if strings.HasPrefix(s, "C: ") {
					sent++
				}
			}
			assert.Equal(t, tc.texts, changed, "recorded client lines")
			assert.Equal(t, tc.verbs, r.verbs)
			assert.Equal(t, tc.creds, r.creds)
			assert.Equal(t, tc.verdicts, r.verdicts)
			for _, c := range r.creds {
				require.NotContains(t, c.Wire, "secret")
			}
		})
	}
}

func TestMasker(t *testing.T) {
	m := newMasker([]string{"", "ab", "hunter2", "hunter2-long"})
	assert.Equal(t, "x ************ y ******* ab", m.mask("x hunter2-long y hunter2 ab"), "longest first; too short ones left")
}
