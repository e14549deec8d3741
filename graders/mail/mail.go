// Package mail is the course chapter on standard Internet services' mail
// protocols: the smtp-client, pop-client and imap-client exercises, graded
// by being the client's server (internal/mailserver) and judging what it
// sent, what it printed, and the mailbox it left.
package mail

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/mailserver"
	"github.com/netgrade/netgrade/internal/pyenv"
)

// The texts of the listing exercises, course settings with these
// defaults: the count line first, then one line per message.
const (
	// DefaultCountLine is the count_line text: {count} is the number of
	// messages.
	DefaultCountLine = "{count} messages"
	// DefaultMessageLine is the message_line text: {n} is the message's
	// number, {from} its sender, {subject} its subject, both decoded.
	DefaultMessageLine = "{n}: {from} | {subject}"
)

// The names of the texts (course settings) of the listing exercises.
const (
	textCountLine     = "count_line"
	textMessageLine   = "message_line"
	textUser          = "user"
	textPassword      = "password"
	textWrongPassword = "wrong_password"
)

// defaultWrongPassword is the password of the wrong-password run: one no
// one types by chance, so that it is masked wherever it appears.
const defaultWrongPassword = "Wr0ng-passw0rd"

// mailHost is the HOST every run gives the client: the servers listen on
// 127.0.0.1.
const mailHost = "127.0.0.1"

// printed returns the non-empty lines a program printed on stdout, or on
// stderr when it printed nothing on stdout.
func printed(p *harness.Process) []string {
	var out, errs []string
	for _, l := range p.Output().Lines() {
		if l.Mark || strings.TrimSpace(l.Text) == "" {
			continue
		}
		if l.Stream == harness.Stderr {
			errs = append(errs, l.Text)
		} else {
			out = append(out, l.Text)
		}
	}
	if len(out) == 0 {
		return errs
	}
	return out
}

// allText is everything a program printed, both streams.
func allText(p *harness.Process) string {
	var b strings.Builder
	for _, l := range p.Output().Lines() {
		if !l.Mark {
			b.WriteString(l.Text)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// showPrinted renders what a program printed for a failure.
func showPrinted(lines []string) string {
	if len(lines) == 0 {
		return "nothing"
	}
	return strings.Join(lines, "\n")
}

// numberRE finds the numbers in a line.
var numberRE = regexp.MustCompile(`\d+`)

// judgeCount checks that the first line printed names count as its only
// number.
func judgeCount(t *graders.T, lines []string, count int) error {
	want := strings.ReplaceAll(t.Text(textCountLine), "{count}", strconv.Itoa(count))
	if len(lines) == 0 {
		return graders.Failf("the program printed nothing").Want(want, "nothing")
	}
	first := lines[0]
	nums := numberRE.FindAllString(first, -1)
	switch {
	case len(nums) == 1 && nums[0] == strconv.Itoa(count):
		return nil
	case len(nums) == 0:
		return graders.Failf("the first line printed holds no number: the mailbox holds %d messages", count).Want(want, first)
	case len(nums) > 1:
		return graders.Failf("the first line printed holds several numbers (%s): it must show the number of messages, %d, alone", strings.Join(nums, ", "), count).Want(want, first)
	default:
		return graders.Failf("the first line printed says %s, but the mailbox holds %d messages", nums[0], count).Want(want, first)
	}
}

// messageLine is one message line as printed.
type messageLine struct {
	index         int // in printed()
	n             int
	from, subject string
}

// lineRegexp turns a message_line template into a regular expression with
// groups n, from and subject; around and between the template's words any
// spaces match, or none.
func lineRegexp(template string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^\s*`)
	rest := template
	for rest != "" {
		i := strings.IndexByte(rest, '{')
		j := strings.IndexByte(rest, '}')
		if i < 0 || j < i {
			b.WriteString(literalRE(rest))
			break
		}
		b.WriteString(literalRE(rest[:i]))
		switch rest[i+1 : j] {
		case "n":
			b.WriteString(`(?P<n>\d+)`)
		case "from":
			b.WriteString(`(?P<from>.*?)`)
		case "subject":
			b.WriteString(`(?P<subject>.*?)`)
		default:
			b.WriteString(regexp.QuoteMeta(rest[i : j+1]))
		}
		rest = rest[j+1:]
	}
	b.WriteString(`\s*$`)
	return regexp.MustCompile(b.String())
}

func literalRE(s string) string {
	var parts []string
	for _, f := range strings.Fields(s) {
		parts = append(parts, regexp.QuoteMeta(f))
	}
	if len(parts) == 0 {
		return `\s*`
	}
	return `\s*` + strings.Join(parts, `\s*`) + `\s*`
}

// messageLines finds the message lines among what the program printed.
func messageLines(t *graders.T, lines []string) []messageLine {
	re := lineRegexp(t.Text(textMessageLine))
	var out []messageLine
	for i, l := range lines {
		m := re.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		n, err := strconv.Atoi(m[re.SubexpIndex("n")])
		if err != nil {
			continue
		}
		ml := messageLine{index: i, n: n}
		if k := re.SubexpIndex("from"); k >= 0 {
			ml.from = strings.TrimSpace(m[k])
		}
		if k := re.SubexpIndex("subject"); k >= 0 {
			ml.subject = strings.TrimSpace(m[k])
		}
		out = append(out, ml)
	}
	return out
}

// expectedLine renders the line a correct client prints for message n.
func expectedLine(t *graders.T, n int, m mailserver.Message) string {
	return strings.NewReplacer("{n}", strconv.Itoa(n), "{from}", m.From(), "{subject}", m.Subject).Replace(t.Text(textMessageLine))
}

// expectedListing renders every line a correct client prints for seed.
func expectedListing(t *graders.T, seed []mailserver.Message) string {
	lines := []string{strings.ReplaceAll(t.Text(textCountLine), "{count}", strconv.Itoa(len(seed)))}
	for i, m := range seed {
		lines = append(lines, expectedLine(t, i+1, m))
	}
	return strings.Join(lines, "\n")
}

// judgeList checks one line per message, in order: the plain ones exactly,
// the encoded ones by their form only (decoding is judged apart).
func judgeList(t *graders.T, lines []string, seed []mailserver.Message) error {
	found := messageLines(t, lines)
	byN := map[int]messageLine{}
	for _, ml := range found {
		if _, ok := byN[ml.n]; !ok {
			byN[ml.n] = ml
		}
	}
	want, got := expectedListing(t, seed), showPrinted(lines)
	last := -1
	for i, m := range seed {
		n := i + 1
		ml, ok := byN[n]
		if !ok {
			return graders.Failf("no line for message %d in the form %q", n, t.Text(textMessageLine)).Want(want, got)
		}
		if ml.index < last {
			return graders.Failf("the line of message %d comes before the one of message %d: list them in order", n, n-1).Want(want, got)
		}
		last = ml.index
		if m.Encoded {
			continue
		}
		if !acceptedFrom(m, ml.from) {
			return graders.Failf("message %d: the sender is shown as %q", n, ml.from).Want(expectedLine(t, n, m), lines[ml.index])
		}
		if ml.subject != m.Subject {
			return graders.Failf("message %d: the subject is shown as %q", n, ml.subject).Want(expectedLine(t, n, m), lines[ml.index])
		}
	}
	if extra := len(found) - len(byN); extra > 0 || len(byN) > len(seed) {
		return graders.Failf("more message lines than messages: the mailbox holds %d", len(seed)).Want(want, got)
	}
	return nil
}

// acceptedFrom reports whether a printed sender is one of the accepted
// forms.
func acceptedFrom(m mailserver.Message, shown string) bool {
	for _, f := range m.FromForms() {
		if shown == f {
			return true
		}
	}
	return false
}

// judgeDecoded checks that the RFC 2047 senders and subjects are printed
// decoded: the decoded texts appear, no encoded-word does.
func judgeDecoded(t *graders.T, lines []string, out string, seed []mailserver.Message) error {
	var missing []string
	var want []string
	for i, m := range seed {
		if !m.Encoded {
			continue
		}
		want = append(want, expectedLine(t, i+1, m))
		if !strings.Contains(out, m.Subject) {
			missing = append(missing, fmt.Sprintf("message %d's subject %q", i+1, m.Subject))
		}
		if (m.FromName == "" || !strings.Contains(out, m.FromName)) && !strings.Contains(out, m.FromAddr) {
			missing = append(missing, fmt.Sprintf("message %d's sender %q", i+1, m.From()))
		}
	}
	got := showPrinted(lines)
	if i := strings.Index(out, "=?"); i >= 0 {
		word := out[i:]
		if j := strings.Index(word, "?="); j >= 0 && j < 120 {
			word = word[:j+2]
		}
		return graders.Failf("the program prints an RFC 2047 encoded-word as it is: %s", firstLine(word)).Want(strings.Join(want, "\n"), got)
	}
	if len(missing) > 0 {
		return graders.Failf("not printed decoded: %s", strings.Join(missing, ", ")).Want(strings.Join(want, "\n"), got)
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// judgeRefusal checks how a program ends when the server refused it: a
// message, a non-zero status, no traceback.
func judgeRefusal(p *harness.Process, what string) error {
	ex := p.Exit()
	lines := printed(p)
	tb := pyenv.LastTraceback(p.Output().Lines())
	switch {
	case ex.StoppedBy != "":
		return graders.Failf("after %s the program was still running: netgrade had to stop it", what).
			Want("a message and a non-zero exit status", "still running; printed:\n"+showPrinted(lines))
	case tb != nil:
		return graders.Failf("after %s the program crashed with a traceback: %s", what, tb.Line).
			Want("a message and a non-zero exit status, no traceback", tb.Line)
	case ex.Code == 0:
		return graders.Failf("after %s the program exited with status 0, as if all went well", what).
			Want("a message and a non-zero exit status", ex.String()+"; printed:\n"+showPrinted(lines))
	case len(lines) == 0:
		return graders.Failf("after %s the program %s without a word", what, ex).
			Want("a message saying what went wrong", "nothing printed")
	}
	return nil
}

// judgeEnds checks that the client ended its session (sent QUIT or LOGOUT)
// and exited with status 0.
func judgeEnds(p *harness.Process, sent bool, verb string) error {
	ex := p.Exit()
	switch {
	case ex.StoppedBy != "":
		return graders.Failf("the client was still running: netgrade had to stop it").
			Want("exit status 0 after "+verb, "still running; printed:\n"+showPrinted(printed(p)))
	case !sent:
		return graders.Failf("the client closed the connection without sending %s", verb).
			Want(verb+", then the end of the program", "the connection closed without "+verb)
	case ex.Code != 0:
		return graders.Failf("the client sent %s but %s", verb, ex).Want("exit status 0", ex.String())
	}
	return nil
}

// inClearFailure says what an eavesdropper read of the credentials sent
// before TLS: the dialogue in clear up to the server's answer to the first
// of them, password masked. It returns nil when there were none.
func inClearFailure(d mailserver.Dialogue, tlsCommand, hint string) *graders.Failure {
	creds := d.InClear()
	if len(creds) == 0 {
		return nil
	}
	c := creds[0]
	who := ""
	if c.User != "" {
		who = fmt.Sprintf(" for user %q", c.User)
	}
	return graders.Failf("the client sent its password (%d characters%s) in clear although the server offered %s: anyone on the network path read it", c.PasswordLen, who, tlsCommand).
		Want(tlsCommand+" first, then the login over TLS", "an eavesdropper read (the password masked here, not on the network):\n"+showClear(d.ClearUntil(c.Conn, c.At))).
		WithHint("%s", hint)
}

// showClear renders lines in clear, C: for the client and S: for the
// server, the middle left out when they are many.
func showClear(lines []mailserver.Line) string {
	const most = 30
	var out []string
	for i, l := range lines {
		if len(lines) > most && i >= most/2 && i < len(lines)-most/2 {
			if i == most/2 {
				out = append(out, fmt.Sprintf("… %d lines …", len(lines)-most))
			}
			continue
		}
		who := "S: "
		if l.FromClient {
			who = "C: "
		}
		out = append(out, who+graders.Printable([]byte(l.Text)))
	}
	return strings.Join(out, "\n")
}
