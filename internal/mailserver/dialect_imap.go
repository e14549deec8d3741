package mailserver

import (
	"strconv"
	"strings"
)

// imapDialect follows an IMAP dialogue (RFC 3501, 9051): tagged commands,
// literals ({N} then N bytes) on both sides, LOGIN's password as an atom, a
// quoted string or a literal, AUTHENTICATE's SASL responses after "+ ",
// and STARTTLS granted by a tagged OK.
type imapDialect struct {
	// lit is the number of bytes of a client literal still to come; litArg
	// is the LOGIN argument it holds (0 user, 1 password), -1 for another
	// command's literal; litText gathers it.
	lit     int
	litArg  int
	litText strings.Builder
	// login is set while a LOGIN command is being read.
	login *imapLogin
	// authTag and auth are those of an AUTHENTICATE in progress; asked is
	// set when the server's "+" asks for the next response.
	authTag, auth string
	asked         bool
	tlsTag        string
	srvLit        int // bytes of a server literal still to come
}

type imapLogin struct {
	tag  string
	arg  int
	user string
}

func newIMAPDialect() dialect { return &imapDialect{} }

// trailingLiteral reads a literal announcement ending a line: "{12}",
// "{12+}" or "~{12}".
func trailingLiteral(text string) (int, bool) {
	if !strings.HasSuffix(text, "}") {
		return 0, false
	}
	i := strings.LastIndexByte(text, '{')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(text[i+1:len(text)-1], "+"))
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

func (d *imapDialect) client(raw []byte, _ bool) clientLine {
	if d.lit > 0 {
		return d.literal(raw)
	}
	text := trimEOL(raw)
	if d.auth != "" && d.asked {
		d.asked = false
		if text == "*" {
			return clientLine{text: text}
		}
		return d.sasl(text)
	}
	tag, rest, _ := strings.Cut(text, " ")
	verb, args := splitVerb(rest)
	if verb == "UID" {
		var sub string
		sub, args = splitVerb(args)
		verb = "UID " + sub
	}
	cl := clientLine{text: text, verb: verb}
	switch verb {
	case "LOGIN":
		d.login = &imapLogin{tag: tag}
		masked, cred := d.scanLogin(args)
		cl.text = tag + " LOGIN " + masked
		cl.cred = cred
	case "AUTHENTICATE":
		mech, ir, _ := strings.Cut(args, " ")
		d.authTag, d.auth = tag, strings.ToUpper(mech)
		if ir != "" && ir != "=" {
			r := d.sasl(ir)
			cl.text = tag + " AUTHENTICATE " + mech + " " + r.text
			cl.cred = r.cred
		}
	case "STARTTLS":
		d.tlsTag = tag
		cl.startTLS = true
	default:
		if n, ok := trailingLiteral(args); ok {
			d.lit, d.litArg = n, -1
		}
	}
	_, cl.cmd, _ = strings.Cut(cl.text, " ")
	return cl
}

// literal reads a line that starts with (or is all) literal bytes.
func (d *imapDialect) literal(raw []byte) clientLine {
	n := min(d.lit, len(raw))
	part, rest := string(raw[:n]), raw[n:]
	d.lit -= n
	arg := d.litArg
	if arg >= 0 {
		d.litText.WriteString(part)
	}
	shown := trimEOL([]byte(part))
	if arg == 1 {
		shown = stars(shown)
	}
	if d.lit > 0 {
		return clientLine{text: shown}
	}
	cl := clientLine{text: shown}
	if arg >= 0 && d.login != nil {
		value := d.litText.String()
		d.litText.Reset()
		if arg == 0 {
			d.login.user = value
		} else {
			cl.cred = d.loginCred(value)
		}
		d.login.arg++
		more, cred := d.scanLogin(trimEOL(rest))
		cl.text += more
		if cred != nil {
			cl.cred = cred
		}
		return cl
	}
	if more := trimEOL(rest); more != "" {
		cl.text += more
		if n, ok := trailingLiteral(more); ok {
			d.lit, d.litArg = n, -1
		}
	}
	return cl
}

func (d *imapDialect) loginCred(pass string) *Credential {
	return &Credential{Mechanism: "LOGIN", User: d.login.user, PasswordLen: len([]rune(pass)),
		Wire: d.login.tag + " LOGIN " + d.login.user + " " + stars(pass)}
}

// scanLogin reads LOGIN's arguments from s, from the one d.login is at,
// and returns s with the password masked, and the credential once the
// password has been read. A literal ending s is left for the next lines.
func (d *imapDialect) scanLogin(s string) (string, *Credential) {
	var b strings.Builder
	var cred *Credential
	for i := 0; i < len(s); {
		if s[i] == ' ' {
			b.WriteByte(' ')
			i++
			continue
		}
		arg := d.login.arg
		var value string
		j := i
		switch s[i] {
		case '"':
			var v strings.Builder
			for j = i + 1; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				v.WriteByte(s[j])
			}
			if j < len(s) {
				j++ // the closing quote
			}
			value = v.String()
			if arg == 1 {
				b.WriteString(`"` + stars(value) + `"`)
			} else {
				b.WriteString(s[i:j])
			}
		case '{':
			if n, ok := trailingLiteral(s[i:]); ok && !strings.Contains(s[i:], " ") {
				d.lit, d.litArg = n, min(arg, 1)
				b.WriteString(s[i:])
				return b.String(), cred
			}
			fallthrough
		default:
			j = strings.IndexByte(s[i:], ' ')
			if j < 0 {
				j = len(s)
			} else {
				j += i
			}
			value = s[i:j]
			if arg == 1 {
				b.WriteString(stars(value))
			} else {
				b.WriteString(value)
			}
		}
		switch arg {
		case 0:
			d.login.user = value
		case 1:
			cred = d.loginCred(value)
		}
		d.login.arg++
		i = j
	}
	return b.String(), cred
}

func (d *imapDialect) sasl(text string) clientLine {
	if d.auth == "PLAIN" {
		shown, cred, _ := saslPlain(text)
		cred.Mechanism, cred.Wire = "AUTHENTICATE PLAIN", "AUTHENTICATE PLAIN "+shown
		return clientLine{text: shown, cred: &cred}
	}
	cred := Credential{Mechanism: "AUTHENTICATE " + d.auth, PasswordLen: len([]rune(text)), Wire: "AUTHENTICATE " + d.auth + " " + stars(text)}
	return clientLine{text: stars(text), cred: &cred}
}

func (d *imapDialect) server(raw []byte) tlsVerdict {
	if d.srvLit > 0 {
		n := min(d.srvLit, len(raw))
		d.srvLit -= n
		if d.srvLit == 0 {
			if k, ok := trailingLiteral(trimEOL(raw[n:])); ok {
				d.srvLit = k
			}
		}
		return noVerdict
	}
	text := trimEOL(raw)
	if k, ok := trailingLiteral(text); ok {
		d.srvLit = k
	}
	if text == "+" || strings.HasPrefix(text, "+ ") {
		if d.lit == 0 && d.auth != "" {
			d.asked = true
		}
		return noVerdict
	}
	tag, rest, _ := strings.Cut(text, " ")
	status, _ := splitVerb(rest)
	if d.authTag != "" && tag == d.authTag {
		d.authTag, d.auth, d.asked = "", "", false
	}
	if d.login != nil && tag == d.login.tag {
		d.login = nil
	}
	if d.tlsTag != "" && tag == d.tlsTag {
		d.tlsTag = ""
		if status == "OK" {
			return tlsGranted
		}
		return tlsRefused
	}
	return noVerdict
}
