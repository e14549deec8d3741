package mailserver

import (
	"strconv"
	"strings"
)

// smtpDialect follows an SMTP dialogue (RFC 5321): every command waits for
// one final reply, in order (PIPELINING included); DATA's 354 opens the
// message, which ends at a line holding a lone dot; AUTH's 334 asks for a
// SASL response, which carries the credentials.
type smtpDialect struct {
	pending []string // verbs waiting for their final reply; "" is the greeting
	data    bool     // between DATA's 354 and the final dot
	bdat    int      // bytes of a BDAT chunk still to come
	// auth is the mechanism of an AUTH in progress; askd is set when the
	// server's 334 asks for the next response; step counts the responses.
	auth  string
	asked bool
	step  int
	user  string
}

func newSMTPDialect() dialect { return &smtpDialect{pending: []string{""}} }

func (d *smtpDialect) client(raw []byte, _ bool) clientLine {
	text := trimEOL(raw)
	if d.data {
		if text == "." {
			d.data = false
			d.pending = append(d.pending, ".")
		}
		return clientLine{text: text}
	}
	if d.bdat > 0 {
		d.bdat -= len(raw)
		return clientLine{text: text}
	}
	if d.auth != "" && d.asked {
		d.asked = false
		return d.saslResponse(text)
	}
	verb, rest := splitVerb(text)
	cl := clientLine{text: text, verb: verb, cmd: text}
	d.pending = append(d.pending, verb)
	switch verb {
	case "STARTTLS":
		cl.startTLS = true
	case "BDAT":
		size, _, _ := strings.Cut(rest, " ")
		d.bdat, _ = strconv.Atoi(size)
	case "AUTH":
		mech, ir, _ := strings.Cut(rest, " ")
		d.auth, d.step, d.user = strings.ToUpper(mech), 0, ""
		if ir != "" && ir != "=" {
			r := d.saslResponse(ir)
			cl.text = "AUTH " + mech + " " + r.text
			cl.cred = r.cred
		}
		cl.cmd = cl.text
	}
	return cl
}

// saslResponse masks one SASL response of the AUTH in progress.
func (d *smtpDialect) saslResponse(text string) clientLine {
	d.step++
	if text == "*" {
		return clientLine{text: text}
	}
	switch d.auth {
	case "PLAIN":
		shown, cred, _ := saslPlain(text)
		cred.Mechanism = "AUTH PLAIN"
		cred.Wire = "AUTH PLAIN " + shown
		return clientLine{text: shown, cred: &cred}
	case "LOGIN":
		if d.step == 1 {
			if u, ok := saslText(text); ok {
				d.user = u
				return clientLine{text: text + " <base64 of " + strconv.Quote(u) + ">"}
			}
		}
		pass, _ := saslText(text)
		cred := Credential{Mechanism: "AUTH LOGIN", User: d.user, PasswordLen: len([]rune(pass))}
		cred.Wire = "AUTH LOGIN: user " + strconv.Quote(d.user) + ", password " + stars(pass)
		return clientLine{text: "<base64 of " + strconv.Quote(stars(pass)) + ">", cred: &cred}
	default:
		cred := Credential{Mechanism: "AUTH " + d.auth, User: d.user, PasswordLen: len([]rune(text))}
		cred.Wire = "AUTH " + d.auth + " " + stars(text)
		return clientLine{text: stars(text), cred: &cred}
	}
}

// smtpReply reads a reply line's code and whether it is the last line of
// the reply ("250 ok", not "250-...").
func smtpReply(text string) (code int, final bool) {
	if len(text) < 3 {
		return 0, true
	}
	code, err := strconv.Atoi(text[:3])
	if err != nil {
		return 0, true
	}
	return code, len(text) == 3 || text[3] != '-'
}

func (d *smtpDialect) server(raw []byte) tlsVerdict {
	code, final := smtpReply(trimEOL(raw))
	if !final {
		return noVerdict
	}
	if len(d.pending) == 0 {
		return noVerdict
	}
	verb := d.pending[0]
	if verb == "AUTH" && code == 334 {
		d.asked = true
		return noVerdict
	}
	d.pending = d.pending[1:]
	switch verb {
	case "AUTH":
		d.auth, d.asked = "", false
	case "DATA":
		d.data = code == 354
	case "STARTTLS":
		if code == 220 {
			return tlsGranted
		}
		return tlsRefused
	}
	return noVerdict
}
