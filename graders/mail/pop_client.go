package mail

import (
	"fmt"
	"strings"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/probe/mailprobe"
	"github.com/netgrade/netgrade/internal/mailserver"
)

// POPClient is the pop-client exercise: `PROG HOST PORT USER PASSWORD`
// lists a POP3 mailbox (count, then `N: FROM | SUBJECT` per message),
// deletes nothing, and quits, with STLS before the password.
func POPClient() *graders.Exercise {
	l := &lister{
		id: "pop-client", title: "POP3 client",
		endVerb: "QUIT", tlsVerb: "STLS",
		run:             runPOP,
		loginHint:       "p = poplib.POP3(host, int(port)), then p.user(user) and p.pass_(password), with USER and PASSWORD from sys.argv[3] and sys.argv[4]; never input(): nobody types at a grader.",
		countHint:       "count, size = p.stat() gives the number of messages; print(f\"{count} messages\").",
		listHint:        "for n in range(1, count + 1): take the headers with p.top(n, 0) (or p.retr(n)), join the lines with b\"\\r\\n\", parse them with email.message_from_bytes and print(f\"{n}: {msg['From']} | {msg['Subject']}\").",
		keepRequirement: "The mailbox is left as it was: no `DELE` stays pending at the end of the session (DELE then QUIT deletes for good; DELE undone by RSET is fine).",
		keepHint:        "Reading a message does not require deleting it: do not call p.dele(n).",
		keepPoints:      2,
		endHint:         "End with p.quit(): it sends QUIT (p.close() closes without it).",
		wrongHint:       "Catch poplib.error_proto around p.pass_(), print what the server said and sys.exit(1).",
		tlsHint:         "Call p.stls() right after connecting, before p.user() and p.pass_(): the server offers it, and Python does not check netgrade's self-signed certificate.",
	}
	return l.exercise()
}

// runPOP runs the client against a POP3 server holding seed.
func runPOP(t *graders.T, seed []mailserver.Message, password string) (*listRun, error) {
	user, right := account(t)
	cfg := mailserver.Config{StartTLS: true, User: user, Password: right, Mailbox: seed, Secrets: []string{password}}
	r, err := mailprobe.Client[mailserver.POP3Facts](t, "pop3", mailserver.StartPOP3, cfg,
		map[string]string{"host": mailHost, "user": user, "password": password})
	if err != nil {
		return nil, err
	}
	f := r.Facts
	lr := &listRun{p: r.P, port: r.Port, loggedIn: f.LoggedIn, failed: f.FailedLogins, dialogue: f.Dialogue, ended: f.Quit}
	if len(f.Pending) > 0 {
		var dele []string
		for _, n := range f.Pending {
			dele = append(dele, fmt.Sprintf("DELE %d", n))
		}
		lr.kept = strings.Join(dele, ", ")
		if f.Quit {
			lr.kept += ", then QUIT: deleted for good"
		} else {
			lr.kept += " (no QUIT followed, so the server kept them this time)"
		}
	}
	return lr, nil
}
