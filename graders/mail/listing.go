package mail

import (
	"fmt"
	"strings"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/probe/mailprobe"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/mailserver"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/report"
)

// listRun is what the checks of a listing exercise (pop-client,
// imap-client) judge of one run, whatever the protocol.
type listRun struct {
	p    *harness.Process
	port int
	// loggedIn: a login was accepted; failed counts refused ones.
	loggedIn bool
	failed   int
	dialogue mailserver.Dialogue
	// ended: QUIT or LOGOUT sent.
	ended bool
	// kept is "" when the mailbox is as it was, else what changed.
	kept string
	// seen lists the messages that got \Seen (IMAP), fetches the SELECT
	// and FETCH commands that did it.
	seen    []int
	fetches string
}

// lister is what differs between the two listing exercises.
type lister struct {
	id, title        string
	endVerb, tlsVerb string
	// run runs the client against a server holding seed with the
	// password given.
	run func(t *graders.T, seed []mailserver.Message, password string) (*listRun, error)
	// hints of the checks whose advice names the library's calls.
	loginHint, countHint, listHint, keepHint, keepRequirement, endHint, wrongHint, tlsHint string
	keepPoints                                                                             float64
}

// account returns the user and password of the main run.
func account(t *graders.T) (string, string) {
	return t.Text(textUser), t.Text(textPassword)
}

// mainRun runs the client with the right password.
func (l *lister) mainRun(t *graders.T) (*listRun, error) {
	_, pass := account(t)
	return l.run(t, mailserver.Seed(), pass)
}

// exercise builds the exercise's checks; extra checks come after decoded.
func (l *lister) exercise(extra ...*graders.Check) *graders.Exercise {
	e := &graders.Exercise{
		ID:    l.id,
		Title: l.title,
		Usage: l.id + ".py HOST PORT USER PASSWORD",
		Args:  []string{"{host}", "{port}", "{user}", "{password}"},
		Texts: map[string]string{
			textCountLine:     DefaultCountLine,
			textMessageLine:   DefaultMessageLine,
			textUser:          mailserver.SeedUser,
			textPassword:      mailserver.SeedPassword,
			textWrongPassword: defaultWrongPassword,
		},
		// What the client printed is judged only once it logged in.
		Needs:        "login",
		CheckTimeout: mailprobe.CheckTimeout,
	}
	seed := mailserver.Seed()
	e.Checks = []*graders.Check{
		{
			ID: "login", Title: "logs in with USER and PASSWORD",
			Requirement: fmt.Sprintf("`PROG 127.0.0.1 PORT %s PASSWORD` connects to 127.0.0.1:PORT and logs in with the user and password of its command line; the server accepts the login.", mailserver.SeedUser),
			Category:    report.Start, Points: 2,
			Hint: l.loginHint,
			Run:  l.listCheckLogin,
		},
		{
			ID: "count", Title: "prints the number of messages",
			Requirement: fmt.Sprintf("The first line printed is the number of messages, %d: `%s` by default; any wording with the count as its only number is accepted.", len(seed), strings.ReplaceAll(DefaultCountLine, "{count}", fmt.Sprint(len(seed)))),
			Category:    report.Format, Points: 1,
			Hint: l.countHint,
			Run:  l.listCheckCount,
		},
		{
			ID: "list", Title: "prints one line per message",
			Requirement: "After the count, one line per message, in order: `N: FROM | SUBJECT`. For the messages whose headers are plain ASCII (1 and 3) the sender and the subject as they are; the sender may be `Name <address>`, `\"Name\" <address>`, the address alone or the display name alone.",
			Category:    report.Format, Points: 2,
			Hint: l.listHint,
			Run:  l.listCheckList,
		},
		{
			ID: "decoded", Title: "shows encoded senders and subjects decoded",
			Requirement: "Messages 2 and 4 have RFC 2047 headers (`=?utf-8?b?...?=`): they are shown decoded, `Béatrice Nguyễn <beatrice@example.org> | Xin chào các bạn` and `Support Team <support@example.com> | Résumé of the week — attached`; no encoded-word is printed.",
			Category:    report.Encoding, Points: 2,
			Hint: "Parse the headers with email.message_from_bytes(raw, policy=email.policy.default): its headers come decoded. With the default (compat32) policy, decode with str(email.header.make_header(email.header.decode_header(value))).",
			Run:  l.listCheckDecoded,
		},
	}
	e.Checks = append(e.Checks, extra...)
	e.Checks = append(e.Checks,
		&graders.Check{
			ID: "keeps-mailbox", Title: "deletes nothing",
			Requirement: l.keepRequirement,
			Category:    report.Protocol, Points: l.keepPoints,
			Hint: l.keepHint,
			Run:  l.listCheckKeepsMailbox,
		},
		&graders.Check{
			ID: strings.ToLower(l.endVerb), Title: "ends with " + l.endVerb + " and exit status 0",
			Requirement: fmt.Sprintf("The client ends its session with `%s` and exits with status 0, within %s of its start.", l.endVerb, mailprobe.ExitTimeout),
			Category:    report.Lifecycle, Points: 1,
			Hint: l.endHint,
			Run:  l.listCheckEnds,
		},
		&graders.Check{
			ID: "wrong-password", Title: "a refused password gives a message, not a traceback",
			Requirement: fmt.Sprintf("`PROG 127.0.0.1 PORT %s WRONG`: the server refuses the password; the program prints a message and exits with a non-zero status, without a Python traceback.", mailserver.SeedUser),
			Category:    report.Robustness, Points: 1,
			Hint: l.wrongHint,
			Run:  l.listCheckWrongPassword,
		},
		&graders.Check{
			ID: strings.ToLower(l.tlsVerb), Title: "switches to TLS before sending the password",
			Requirement: fmt.Sprintf("The server offers %s: the client switches to TLS before it sends the user name and password, so that no one on the network reads them.", l.tlsVerb),
			Category:    report.Security, Points: 2,
			Hint: l.tlsHint,
			Run:  l.listCheckTLS,
		},
	)
	return graders.NewExercise(e)
}

// judgeLogin checks that the main run logged in, and says how it did not.
func (l *lister) judgeLogin(t *graders.T, r *listRun) error {
	user, pass := account(t)
	want := fmt.Sprintf("a login as %q with the password given (%d characters), accepted", user, len([]rune(pass)))
	d := r.dialogue
	switch {
	case r.loggedIn:
		return nil
	case len(d.Conns) == 0:
		return graders.Failf("the client never connected to 127.0.0.1:%d", r.port).Want(want, "no connection; the client "+ending(r.p))
	case len(d.Credentials) == 0:
		return graders.Failf("the client connected but never sent a user name and password").Want(want, "commands sent: "+verbs(d))
	default:
		c := d.Credentials[len(d.Credentials)-1]
		return graders.Failf("the server refused the login: user %q with a password of %d characters", c.User, c.PasswordLen).
			Want(want, fmt.Sprintf("user %q, password of %d characters", c.User, c.PasswordLen)).
			WithHint("USER is sys.argv[3] and PASSWORD sys.argv[4]: pass them as they are.")
	}
}

// ending says how a program ended, with its traceback's last line.
func ending(p *harness.Process) string {
	s := p.Exit().String()
	if tb := pyenv.LastTraceback(p.Output().Lines()); tb != nil {
		s += ": " + tb.Line
	}
	return s
}

// verbs lists the commands of a dialogue for a failure.
func verbs(d mailserver.Dialogue) string {
	if len(d.Commands) == 0 {
		return "none"
	}
	return strings.Join(d.Verbs(), ", ")
}

// listCheckLogin judges the login check: logs in with USER and PASSWORD.
func (l *lister) listCheckLogin(t *graders.T) error {
	r, err := l.mainRun(t)
	if err != nil {
		return err
	}
	return l.judgeLogin(t, r)
}

// listCheckCount judges the count check: prints the number of messages.
func (l *lister) listCheckCount(t *graders.T) error {
	r, err := l.mainRun(t)
	if err != nil {
		return err
	}
	return judgeCount(t, printed(r.p), len(mailserver.Seed()))
}

// listCheckList judges the list check: prints one line per message.
func (l *lister) listCheckList(t *graders.T) error {
	r, err := l.mainRun(t)
	if err != nil {
		return err
	}
	return judgeList(t, printed(r.p), mailserver.Seed())
}

// listCheckDecoded judges the decoded check: shows encoded senders and
// subjects decoded.
func (l *lister) listCheckDecoded(t *graders.T) error {
	r, err := l.mainRun(t)
	if err != nil {
		return err
	}
	return judgeDecoded(t, printed(r.p), allText(r.p), mailserver.Seed())
}

// listCheckKeepsMailbox judges the keeps-mailbox check: deletes nothing.
func (l *lister) listCheckKeepsMailbox(t *graders.T) error {
	r, err := l.mainRun(t)
	if err != nil {
		return err
	}
	if r.kept != "" {
		return graders.Failf("the client deleted messages: %s", r.kept).Want("the mailbox as it was", r.kept)
	}
	return nil
}

// listCheckEnds judges the check named after the end verb (quit, logout):
// the
// client ends its session with it and exits with status 0.
func (l *lister) listCheckEnds(t *graders.T) error {
	r, err := l.mainRun(t)
	if err != nil {
		return err
	}
	return judgeEnds(r.p, r.ended, l.endVerb)
}

// listCheckWrongPassword judges the wrong-password check: a refused password
// gives a message, not a traceback.
func (l *lister) listCheckWrongPassword(t *graders.T) error {
	r, err := l.run(t, mailserver.Seed(), t.Text(textWrongPassword))
	if err != nil {
		return err
	}
	if r.failed == 0 {
		return graders.Failf("the client never sent the password, so the server could not refuse it").
			Want("a login refused by the server, then a message and a non-zero exit", "no login attempt; printed:\n"+showPrinted(printed(r.p)))
	}
	return judgeRefusal(r.p, "the server refused the password")
}

// listCheckTLS judges the check named after the TLS verb (stls, starttls):
// the
// client switches to TLS before it sends the password.
func (l *lister) listCheckTLS(t *graders.T) error {
	r, err := l.mainRun(t)
	if err != nil {
		return err
	}
	if f := inClearFailure(r.dialogue, l.tlsVerb, l.tlsHint); f != nil {
		return f
	}
	return nil
}
