package mail

import (
	"fmt"
	"strings"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/probe/mailprobe"
	"github.com/netgrade/netgrade/internal/mailserver"
	"github.com/netgrade/netgrade/internal/report"
)

// IMAPClient is the imap-client exercise: `PROG HOST PORT USER PASSWORD`
// lists INBOX (count, then `N: FROM | SUBJECT` per message) without
// marking anything read or deleting anything, and logs out, with STARTTLS
// before the password.
func IMAPClient() *graders.Exercise {
	l := &lister{
		id: "imap-client", title: "IMAP client",
		endVerb: "LOGOUT", tlsVerb: "STARTTLS",
		run:             runIMAP,
		loginHint:       "M = imaplib.IMAP4(host, int(port)), then M.login(user, password), with USER and PASSWORD from sys.argv[3] and sys.argv[4]; never input(): nobody types at a grader.",
		countHint:       "typ, data = M.select(\"INBOX\", readonly=True): int(data[0]) is the number of messages; print(f\"{count} messages\").",
		listHint:        "for n in range(1, count + 1): typ, data = M.fetch(str(n), \"(BODY.PEEK[HEADER])\"); parse data[0][1] with email.message_from_bytes and print(f\"{n}: {msg['From']} | {msg['Subject']}\").",
		keepRequirement: "No message is deleted or marked `\\Deleted` (STORE +FLAGS \\Deleted, EXPUNGE, MOVE).",
		keepHint:        "Listing the messages does not require deleting them: no M.store(n, \"+FLAGS\", \"\\\\Deleted\") nor M.expunge().",
		keepPoints:      1,
		endHint:         "End with M.logout(), or use with imaplib.IMAP4(host, port) as M:, which logs out at the end of the block.",
		wrongHint:       "Catch imaplib.IMAP4.error around M.login(), print what the server said and sys.exit(1).",
		tlsHint:         "Call M.starttls() right after connecting, before M.login(): the server offers it, and Python does not check netgrade's self-signed certificate.",
	}
	unread := &graders.Check{
		ID: "unread", Title: "marks no message as read",
		Requirement: "No message gets the `\\Seen` flag: INBOX is opened with EXAMINE (`select(\"INBOX\", readonly=True)`) or the messages are fetched with `BODY.PEEK[...]`.",
		Category:    report.Protocol, Points: 2,
		Hint: "Open INBOX read-only with M.select(\"INBOX\", readonly=True), or fetch with (BODY.PEEK[HEADER]): RFC822 and BODY[] mark a message as read.",
		Run:  l.imapCheckUnread,
	}
	return l.exercise(unread)
}

// runIMAP runs the client against an IMAP server whose INBOX holds seed.
func runIMAP(t *graders.T, seed []mailserver.Message, password string) (*listRun, error) {
	user, right := account(t)
	cfg := mailserver.Config{StartTLS: true, User: user, Password: right, Mailbox: seed, Secrets: []string{password}}
	r, err := mailprobe.Client[mailserver.IMAPFacts](t, "imap", mailserver.StartIMAP, cfg,
		map[string]string{"host": mailHost, "user": user, "password": password})
	if err != nil {
		return nil, err
	}
	f := r.Facts
	lr := &listRun{p: r.P, port: r.Port, loggedIn: f.LoggedIn, failed: f.FailedLogins, dialogue: f.Dialogue, ended: f.Logout,
		seen: mailserver.SeenSet(f.Changes), fetches: strings.Join(f.Fetches, "; ")}
	for _, s := range f.Selects {
		verb := "SELECT"
		if s.ReadOnly {
			verb = "EXAMINE"
		}
		lr.fetches = verb + " " + s.Mailbox + "; " + lr.fetches
	}
	if gone := mailserver.Gone(f.Changes); len(gone) > 0 {
		var parts []string
		for _, c := range f.Changes {
			if c.Gone || strings.Contains(strings.Join(c.Added, " "), `\Deleted`) {
				parts = append(parts, c.String())
			}
		}
		lr.kept = strings.Join(parts, ", ")
		if len(f.Stores) > 0 {
			lr.kept += " (" + strings.Join(f.Stores, "; ") + ")"
		}
	}
	return lr, nil
}

// imapCheckUnread judges the unread check: marks no message as read.
func (l *lister) imapCheckUnread(t *graders.T) error {
	r, err := l.mainRun(t)
	if err != nil {
		return err
	}
	if len(r.seen) == 0 {
		return nil
	}
	var nums []string
	for _, n := range r.seen {
		nums = append(nums, fmt.Sprint(n))
	}
	return graders.Failf("the client marked messages %s as read (\\Seen)", strings.Join(nums, ", ")).
		Want("no flag changed", "\\Seen set on messages "+strings.Join(nums, ", ")+"; fetches: "+r.fetches)
}
