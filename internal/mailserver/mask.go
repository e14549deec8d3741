package mailserver

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// minSecret is the shortest configured secret masked wherever it appears:
// a shorter one would mask ordinary text.
const minSecret = 3

// masker replaces the configured secrets (the account's password, a wrong
// password a check hands out) wherever they appear in a recorded line, as a
// safety net behind the dialects, which mask a password where the protocol
// puts it whatever it is.
type masker struct{ secrets []string }

func newMasker(secrets []string) *masker {
	var keep []string
	seen := map[string]bool{}
	for _, s := range secrets {
		if len(s) >= minSecret && !seen[s] {
			seen[s] = true
			keep = append(keep, s)
		}
	}
	sort.Slice(keep, func(i, j int) bool { return len(keep[i]) > len(keep[j]) })
	return &masker{secrets: keep}
}

func (m *masker) mask(s string) string {
	for _, sec := range m.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, stars(sec))
		}
	}
	return s
}

// stars is s masked: one '*' per character, so that its length shows.
func stars(s string) string {
	return strings.Repeat("*", utf8.RuneCountInString(s))
}

// saslPlain reads a SASL PLAIN message (RFC 4616), base64-encoded:
// authzid NUL authcid NUL passwd. It returns what an eavesdropper decodes
// from it, the password masked, and the credential; ok is false when the
// text is not such a message (it is then masked whole).
func saslPlain(b64 string) (shown string, cred Credential, ok bool) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return stars(b64), Credential{PasswordLen: utf8.RuneCountInString(b64)}, false
	}
	parts := bytes.Split(raw, []byte{0})
	if len(parts) != 3 {
		return stars(b64), Credential{PasswordLen: utf8.RuneCountInString(string(raw))}, false
	}
	pass := string(parts[2])
	shown = fmt.Sprintf(`<base64 of %q>`, string(parts[0])+"\x00"+string(parts[1])+"\x00"+stars(pass))
	return shown, Credential{User: string(parts[1]), PasswordLen: utf8.RuneCountInString(pass)}, true
}

// saslText decodes a base64 SASL response that is not secret (a LOGIN
// user name) for the record.
func saslText(b64 string) (string, bool) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil || !utf8.Valid(raw) {
		return "", false
	}
	return string(raw), true
}

// splitVerb splits a command line into its verb, in upper case, and the
// rest.
func splitVerb(line string) (verb, rest string) {
	verb, rest, _ = strings.Cut(line, " ")
	return strings.ToUpper(verb), rest
}
