package mail

import (
	"fmt"
	"net/mail"
	"strings"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/probe/mailprobe"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/mailserver"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/report"
)

// The texts of smtp-client (course settings): the arguments of its runs.
const (
	textFrom        = "from"
	textTo          = "to"
	textSubject     = "subject"
	textMessage     = "message"
	textSubjectUTF8 = "subject_utf8"
	textMessageUTF8 = "message_utf8"
	textRefusedTo   = "refused_to"
)

// smtpTexts are smtp-client's default texts.
var smtpTexts = map[string]string{
	textFrom:        "alice@example.org",
	textTo:          "bob@example.org",
	textSubject:     "Lunch on Friday",
	textMessage:     "Shall we meet at noon?",
	textSubjectUTF8: "Chào các bạn",
	textMessageUTF8: "Xin chào các bạn, hẹn gặp lại!",
	textRefusedTo:   "nobody@example.org",
}

// SMTPClient is the smtp-client exercise: `PROG HOST PORT FROM TO SUBJECT
// MESSAGE` sends one e-mail and exits 0.
func SMTPClient() *graders.Exercise {
	texts := map[string]string{}
	for k, v := range smtpTexts {
		texts[k] = v
	}
	e := &graders.Exercise{
		ID:    "smtp-client",
		Title: "SMTP client",
		Usage: "smtp-client.py HOST PORT FROM TO SUBJECT MESSAGE",
		Args:  []string{"{host}", "{port}", "{from}", "{to}", "{subject}", "{message}"},
		Texts: texts,
		// What the client sent is judged only once it connected and
		// greeted.
		Needs:        "connects",
		CheckTimeout: mailprobe.CheckTimeout,
	}
	e.Checks = []*graders.Check{
		{
			ID: "connects", Title: "connects and greets the server",
			Requirement: "`PROG 127.0.0.1 PORT alice@example.org bob@example.org \"Lunch on Friday\" \"Shall we meet at noon?\"` connects to 127.0.0.1:PORT and opens the session with `EHLO` (or `HELO`).",
			Category:    report.Start, Points: 1,
			Hint: "smtplib.SMTP(host, int(port)) connects and greets for you: take HOST and PORT from sys.argv[1] and sys.argv[2].",
			Run:  smtpCheckConnects,
		},
		{
			ID: "envelope", Title: "MAIL FROM and RCPT TO are FROM and TO",
			Requirement: "The envelope is `MAIL FROM:<alice@example.org>` and one `RCPT TO:<bob@example.org>`: FROM and TO as given on the command line (ESMTP parameters are accepted).",
			Category:    report.Protocol, Points: 2,
			Hint: "sendmail(from_addr, [to_addr], msg) takes the envelope from its first two arguments, send_message(msg) from the From and To headers: check which sys.argv you pass (FROM is sys.argv[3], TO sys.argv[4]).",
			Run:  smtpCheckEnvelope,
		},
		{
			ID: "headers", Title: "the message has From, To and Date headers",
			Requirement: "The message the server accepted is a valid RFC 5322 message with a `From` header holding FROM, a `To` header holding TO, and a `Date` header with a valid date.",
			Category:    report.Format, Points: 2,
			Hint: "RFC 5322 requires From and Date: msg['From'] = sender, msg['To'] = recipient, msg['Date'] = email.utils.formatdate(localtime=True). sendmail() sends the text you give it as it is: the headers must be in it.",
			Run:  smtpCheckHeaders,
		},
		{
			ID: "subject", Title: "the Subject header is SUBJECT",
			Requirement: "The message has a `Subject` header whose text is SUBJECT (`Lunch on Friday`).",
			Category:    report.Format, Points: 1,
			Hint: "msg['Subject'] = subject, with SUBJECT from sys.argv[5].",
			Run:  smtpCheckSubject,
		},
		{
			ID: "body", Title: "the body is MESSAGE",
			Requirement: "The message's text (the body of a text/plain message, or its first text/plain part), decoded, is MESSAGE (`Shall we meet at noon?`); trailing newlines are accepted.",
			Category:    report.Format, Points: 1,
			Hint: "msg.set_content(message) (EmailMessage) or MIMEText(message, 'plain', 'utf-8'), with MESSAGE from sys.argv[6].",
			Run:  smtpCheckBody,
		},
		{
			ID: "non-ascii", Title: "a non-ASCII subject and body are MIME-encoded",
			Requirement: "With SUBJECT `Chào các bạn` and MESSAGE `Xin chào các bạn, hẹn gặp lại!`, the client sends the mail; its headers are ASCII, the subject in RFC 2047 encoded-words, and the body declares its charset; both decode to the text given (which argument goes where is the subject and body checks' business).",
			Category:    report.Encoding, Points: 2,
			Hint: "Build the message with email.message.EmailMessage (set_content) and send_message(), or MIMEText(message, 'plain', 'utf-8') and sendmail(..., msg.as_string()): the email package encodes for you. A plain str given to sendmail() must be ASCII.",
			Run:  smtpCheckNonASCII,
		},
		{
			ID: "quit", Title: "ends with QUIT and exit status 0",
			Requirement: fmt.Sprintf("Once the server has accepted the message, the client sends `QUIT` and exits with status 0, within %s of its start.", mailprobe.ExitTimeout),
			Category:    report.Lifecycle, Points: 1,
			Hint: "with smtplib.SMTP(host, port) as s: sends QUIT when the block ends; without with, call s.quit().",
			Run:  smtpCheckQuit,
		},
		{
			ID: "refused", Title: "a refused recipient gives a message, not a traceback",
			Requirement: "With TO `nobody@example.org`, which the server refuses with `550`, the program prints a message and exits with a non-zero status, without a Python traceback.",
			Category:    report.Robustness, Points: 1,
			Hint: "Catch smtplib.SMTPRecipientsRefused (or smtplib.SMTPException), print what went wrong and sys.exit(1).",
			Run:  smtpCheckRefused,
		},
		{
			ID: "starttls", Title: "switches to TLS when the server offers it",
			Requirement: "The server offers STARTTLS: the client switches to TLS (`starttls()`) before it sends the envelope and the message, and before any login.",
			Category:    report.Security, Points: 1,
			Hint: "Call s.starttls() right after connecting (then s.login() if you log in): the server offers it, everything after it is encrypted, and Python does not check netgrade's self-signed certificate.",
			Run:  smtpCheckStartTLS,
		},
	}
	return graders.NewExercise(e)
}

// smtpMain runs the client with the course's recipient, subject and
// message: the run most checks judge.
func smtpMain(t *graders.T) (*smtpRun, error) {
	return runSMTP(t, t.Text(textTo), t.Text(textSubject), t.Text(textMessage))
}

// smtpRun is one run of the SMTP client.
type smtpRun struct {
	p     *harness.Process
	port  int
	facts mailserver.SMTPFacts
}

// runSMTP runs the client against an SMTP server that offers STARTTLS and
// refuses the refused_to recipient.
func runSMTP(t *graders.T, to, subject, message string) (*smtpRun, error) {
	cfg := mailserver.Config{StartTLS: true, Refuse: []string{t.Text(textRefusedTo)}}
	r, err := mailprobe.Client[mailserver.SMTPFacts](t, "smtp", mailserver.StartSMTP, cfg, map[string]string{
		"host": mailHost, "from": t.Text(textFrom), "to": to, "subject": subject, "message": message,
	})
	if err != nil {
		return nil, err
	}
	return &smtpRun{p: r.P, port: r.Port, facts: r.Facts}, nil
}

// message returns the message the server accepted, parsed; a failure when
// there is none or it does not parse.
func (r *smtpRun) message() (*mail.Message, []byte, error) {
	if len(r.facts.Messages) == 0 {
		return nil, nil, graders.Failf("the server received no message: the client never completed DATA").
			Want("a message sent with DATA", "commands sent: "+verbs(r.facts.Dialogue)+"; the client "+ending(r.p))
	}
	data := r.facts.Messages[0].Data
	msg, err := parseMail(data)
	if err != nil {
		return nil, data, graders.Failf("%v", err).Want("a message with its headers, an empty line, then the body", headerBlock(data))
	}
	return msg, data, nil
}

func judgeEnvelope(t *graders.T, f mailserver.SMTPFacts) error {
	from, to := t.Text(textFrom), t.Text(textTo)
	want := fmt.Sprintf("MAIL FROM:<%s>\nRCPT TO:<%s>", from, to)
	var got []string
	for _, c := range f.Commands {
		if c.Verb == "MAIL" || c.Verb == "RCPT" {
			got = append(got, c.Line)
		}
	}
	if len(f.MailFrom) == 0 {
		return graders.Failf("the client sent no MAIL FROM").Want(want, "commands sent: "+verbs(f.Dialogue))
	}
	for _, m := range f.MailFrom {
		if !strings.EqualFold(m, from) {
			return graders.Failf("the envelope sender (MAIL FROM) is <%s>, not FROM", m).Want(want, strings.Join(got, "\n"))
		}
	}
	if len(f.Rcpt) != 1 || !strings.EqualFold(f.Rcpt[0].Addr, to) {
		return graders.Failf("the envelope recipients (RCPT TO) are not TO alone").Want(want, strings.Join(got, "\n"))
	}
	return nil
}

func judgeHeaders(t *graders.T, r *smtpRun) error {
	msg, data, err := r.message()
	if err != nil {
		return err
	}
	from, to := t.Text(textFrom), t.Text(textTo)
	want := fmt.Sprintf("From: %s\nTo: %s\nDate: %s", from, to, "Fri, 16 Jan 2026 12:00:00 +0100 (any valid date)")
	got := headerBlock(data)
	var wrong []string
	if !holds(msg.Header, "From", from) {
		wrong = append(wrong, "no From header holding "+from)
	}
	if !holds(msg.Header, "To", to) {
		wrong = append(wrong, "no To header holding "+to)
	}
	if len(msg.Header["Date"]) == 0 {
		wrong = append(wrong, "no Date header")
	} else if _, err := msg.Header.Date(); err != nil {
		wrong = append(wrong, fmt.Sprintf("the Date header %q is not a valid date", msg.Header.Get("Date")))
	}
	if len(wrong) > 0 {
		return graders.Failf("the message has %s", strings.Join(wrong, ", ")).Want(want, got)
	}
	return nil
}

// holds reports whether a header lists the address.
func holds(h mail.Header, name, addr string) bool {
	list, err := h.AddressList(name)
	if err != nil {
		return strings.Contains(strings.ToLower(h.Get(name)), strings.ToLower(addr))
	}
	for _, a := range list {
		if strings.EqualFold(a.Address, addr) {
			return true
		}
	}
	return false
}

func judgeNonASCII(t *graders.T, r *smtpRun) error {
	subject, text := t.Text(textSubjectUTF8), t.Text(textMessageUTF8)
	want := fmt.Sprintf("Subject: %s (RFC 2047 encoded-words, e.g. =?utf-8?...?=)\nbody: %s (charset declared)", subject, text)
	if len(r.facts.Messages) == 0 {
		f := graders.Failf("with a non-ASCII subject and message, the server received no message").
			Want(want, "no message; the client "+ending(r.p))
		if tb := pyenv.LastTraceback(r.p.Output().Lines()); tb != nil {
			f.Message = "with a non-ASCII subject and message, the client crashed before sending: " + tb.Line
			if tb.Exception == "UnicodeEncodeError" {
				f.Hint = "sendmail() encodes a str message as ASCII: build the message with the email package (EmailMessage and send_message(), or MIMEText(message, 'plain', 'utf-8') and msg.as_string()), which encodes the subject and the body as MIME requires."
			}
		}
		return f
	}
	d := r.facts.Messages[0]
	head, _, _ := strings.Cut(string(d.Data), "\r\n\r\n")
	if !d.UTF8 && !isASCII([]byte(head)) {
		var bad string
		for _, l := range strings.Split(head, "\r\n") {
			if !isASCII([]byte(l)) {
				bad = l
				break
			}
		}
		return graders.Failf("a header holds 8-bit bytes: headers must be ASCII, non-ASCII text encoded as RFC 2047 requires").
			Want(want, bad).
			WithHint("Let the email package build the message (EmailMessage, or MIMEText with a Header): it encodes a non-ASCII subject as =?utf-8?...?=. Encoding the whole text to UTF-8 bytes yourself is not MIME.")
	}
	msg, err := parseMail(d.Data)
	if err != nil {
		return graders.Failf("%v", err).Want(want, headerBlock(d.Data))
	}
	// Which argument goes where is the subject and body checks' business:
	// here each text must survive its encoding, whichever it is.
	given := []string{subject, text}
	if raw := msg.Header.Get("Subject"); len(msg.Header["Subject"]) > 0 {
		got, derr := decodeWords(raw)
		if derr != nil || !oneOf(strings.TrimSpace(got), given) {
			return graders.Failf("the Subject header does not decode to the text given").Want("Subject: "+subject, "Subject: "+raw+" (decoded: "+got+")")
		}
	}
	body, err := mailText(msg)
	if err != nil {
		return graders.Failf("the body cannot be decoded: %v", err).Want(want, headerBlock(d.Data))
	}
	if !oneOf(strings.TrimSpace(body), given) {
		return graders.Failf("the body does not decode to the text given").Want(text, body)
	}
	return nil
}

// oneOf reports whether s is one of the texts, trailing white space aside.
func oneOf(s string, texts []string) bool {
	for _, t := range texts {
		if sameText(s, t) {
			return true
		}
	}
	return false
}

func judgeSMTPTLS(f mailserver.SMTPFacts) error {
	if cf := inClearFailure(f.Dialogue, "STARTTLS", "Call s.starttls() right after connecting, before s.login(): the server offers it, and Python does not check netgrade's self-signed certificate."); cf != nil {
		return cf
	}
	mailInClear := false
	for _, c := range f.Commands {
		mailInClear = mailInClear || (c.Verb == "MAIL" && !c.TLS)
	}
	if !mailInClear {
		return nil
	}
	return graders.Failf("the client sent the mail in clear although the server offered STARTTLS: anyone on the network path read the envelope and the message").
		Want("STARTTLS before MAIL FROM", "an eavesdropper read:\n"+showClear(f.Clear))
}

// smtpCheckConnects judges the connects check: connects and greets the
// server.
func smtpCheckConnects(t *graders.T) error {
	r, err := smtpMain(t)
	if err != nil {
		return err
	}
	f := r.facts
	switch {
	case len(f.Conns) == 0:
		return graders.Failf("the client never connected to 127.0.0.1:%d", r.port).Want("a connection, then EHLO", "no connection; the client "+ending(r.p))
	case len(f.Commands) == 0:
		return graders.Failf("the client connected but sent no command").Want("EHLO (or HELO)", "nothing")
	case f.Greeting == "":
		return graders.Failf("the client's first command is %s, not EHLO or HELO", f.Commands[0].Verb).Want("EHLO (or HELO)", f.Commands[0].Line)
	}
	return nil
}

// smtpCheckEnvelope judges the envelope check: MAIL FROM and RCPT TO are
// FROM and TO.
func smtpCheckEnvelope(t *graders.T) error {
	r, err := smtpMain(t)
	if err != nil {
		return err
	}
	return judgeEnvelope(t, r.facts)
}

// smtpCheckHeaders judges the headers check: the message has From, To and
// Date headers.
func smtpCheckHeaders(t *graders.T) error {
	r, err := smtpMain(t)
	if err != nil {
		return err
	}
	return judgeHeaders(t, r)
}

// smtpCheckSubject judges the subject check: the Subject header is SUBJECT.
func smtpCheckSubject(t *graders.T) error {
	r, err := smtpMain(t)
	if err != nil {
		return err
	}
	msg, data, err := r.message()
	if err != nil {
		return err
	}
	want := t.Text(textSubject)
	raw := msg.Header.Get("Subject")
	if len(msg.Header["Subject"]) == 0 {
		return graders.Failf("the message has no Subject header").Want("Subject: "+want, headerBlock(data))
	}
	got, derr := decodeWords(raw)
	if derr != nil || strings.TrimSpace(got) != want {
		return graders.Failf("the Subject header is not SUBJECT").Want("Subject: "+want, "Subject: "+raw)
	}
	return nil
}

// smtpCheckBody judges the body check: the body is MESSAGE.
func smtpCheckBody(t *graders.T) error {
	r, err := smtpMain(t)
	if err != nil {
		return err
	}
	msg, _, err := r.message()
	if err != nil {
		return err
	}
	want := t.Text(textMessage)
	got, terr := mailText(msg)
	if terr != nil {
		return graders.Failf("the message's text cannot be read: %v", terr).Want(want, "")
	}
	if !sameText(got, want) {
		return graders.Failf("the message's text is not MESSAGE").Want(want, got)
	}
	return nil
}

// smtpCheckNonASCII judges the non-ascii check: a non-ASCII subject and body
// are MIME-encoded.
func smtpCheckNonASCII(t *graders.T) error {
	r, err := runSMTP(t, t.Text(textTo), t.Text(textSubjectUTF8), t.Text(textMessageUTF8))
	if err != nil {
		return err
	}
	return judgeNonASCII(t, r)
}

// smtpCheckQuit judges the quit check: ends with QUIT and exit status 0.
func smtpCheckQuit(t *graders.T) error {
	r, err := smtpMain(t)
	if err != nil {
		return err
	}
	return judgeEnds(r.p, r.facts.Quit, "QUIT")
}

// smtpCheckRefused judges the refused check: a refused recipient gives a
// message, not a traceback.
func smtpCheckRefused(t *graders.T) error {
	r, err := runSMTP(t, t.Text(textRefusedTo), t.Text(textSubject), t.Text(textMessage))
	if err != nil {
		return err
	}
	refused := false
	for _, rc := range r.facts.Rcpt {
		refused = refused || rc.Refused
	}
	if !refused {
		return graders.Failf("the client never asked for the refused recipient %s", t.Text(textRefusedTo)).
			Want("RCPT TO:<"+t.Text(textRefusedTo)+">, refused with 550", "commands sent: "+verbs(r.facts.Dialogue))
	}
	return judgeRefusal(r.p, "the server refused the recipient with 550")
}

// smtpCheckStartTLS judges the starttls check: switches to TLS when the
// server offers it.
func smtpCheckStartTLS(t *graders.T) error {
	r, err := smtpMain(t)
	if err != nil {
		return err
	}
	return judgeSMTPTLS(r.facts)
}
