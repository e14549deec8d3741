package mailserver

import (
	"strings"
)

// popDialect follows a POP3 dialogue (RFC 1939, 2449, 2595, 5034): each
// command gets a status line (+OK or -ERR), some then a multi-line body
// ending with a lone dot; PASS and AUTH carry the credentials.
type popDialect struct {
	pending []popCmd // commands waiting for their status line; "" is the greeting
	multi   bool     // inside a multi-line body
	user    string
	auth    string // mechanism of an AUTH in progress
	asked   bool   // the server's "+ " asks for the next SASL response
}

type popCmd struct {
	verb   string
	hasArg bool
}

func newPOPDialect() dialect { return &popDialect{pending: []popCmd{{}}} }

// popMultiline reports whether a successful reply to the command has a
// multi-line body.
func popMultiline(c popCmd) bool {
	switch c.verb {
	case "CAPA", "TOP", "RETR":
		return true
	case "LIST", "UIDL", "AUTH":
		return !c.hasArg
	}
	return false
}

func (d *popDialect) client(raw []byte, _ bool) clientLine {
	text := trimEOL(raw)
	if d.auth != "" && d.asked {
		d.asked = false
		if text == "*" {
			return clientLine{text: text}
		}
		return d.sasl(text)
	}
	verb, rest := splitVerb(text)
	rest = strings.TrimSpace(rest)
	d.pending = append(d.pending, popCmd{verb: verb, hasArg: rest != ""})
	cl := clientLine{text: text, verb: verb, cmd: text}
	switch verb {
	case "USER":
		d.user = rest
	case "PASS":
		// The password is the whole rest of the line: it may hold spaces.
		_, pass, _ := strings.Cut(text, " ")
		cl.text = text[:len(text)-len(pass)] + stars(pass)
		cl.cmd = cl.text
		cl.cred = &Credential{Mechanism: "USER/PASS", User: d.user, PasswordLen: len([]rune(pass)),
			Wire: "USER " + d.user + "\nPASS " + stars(pass)}
	case "STLS":
		cl.startTLS = true
	case "AUTH":
		mech, ir, _ := strings.Cut(rest, " ")
		if mech != "" {
			d.auth = strings.ToUpper(mech)
		}
		if ir != "" && ir != "=" {
			r := d.sasl(ir)
			cl.text = "AUTH " + mech + " " + r.text
			cl.cmd, cl.cred = cl.text, r.cred
		}
	}
	return cl
}

func (d *popDialect) sasl(text string) clientLine {
	if d.auth == "PLAIN" {
		shown, cred, _ := saslPlain(text)
		cred.Mechanism, cred.Wire = "AUTH PLAIN", "AUTH PLAIN "+shown
		return clientLine{text: shown, cred: &cred}
	}
	cred := Credential{Mechanism: "AUTH " + d.auth, PasswordLen: len([]rune(text)), Wire: "AUTH " + d.auth + " " + stars(text)}
	return clientLine{text: stars(text), cred: &cred}
}

func (d *popDialect) server(raw []byte) tlsVerdict {
	text := trimEOL(raw)
	if d.multi {
		if text == "." {
			d.multi = false
		}
		return noVerdict
	}
	if len(d.pending) == 0 {
		return noVerdict
	}
	cmd := d.pending[0]
	if cmd.verb == "AUTH" && d.auth != "" && (text == "+" || strings.HasPrefix(text, "+ ")) {
		d.asked = true
		return noVerdict
	}
	ok := strings.HasPrefix(text, "+OK")
	if !ok && !strings.HasPrefix(text, "-ERR") {
		return noVerdict
	}
	d.pending = d.pending[1:]
	d.multi = ok && popMultiline(cmd)
	switch cmd.verb {
	case "AUTH":
		d.auth, d.asked = "", false
	case "STLS":
		if ok {
			return tlsGranted
		}
		return tlsRefused
	}
	return noVerdict
}
