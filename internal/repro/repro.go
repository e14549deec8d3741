// Package repro turns what a failed check recorded into a few shell
// commands that show the same failure by hand, with the course's own
// tools: nc for the datagrams and bytes netgrade sent or listened for,
// curl (or nc, for a request curl would not send as written) for HTTP,
// faketime where the check faked the program's clock, and netgrade serve
// for the mail servers the mail clients talk to.
//
// Everything comes from the result: the command template (which says
// whether the program is a client: it takes a {host}), the start events'
// command lines and environments, and the transcript's network events. No
// check writes its own commands, so a new check gets them for free; a
// check the student may not read (hidden) gets none.
package repro

import (
	"fmt"
	"math"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/netgrade/netgrade/internal/mailserver"
	"github.com/netgrade/netgrade/internal/report"
)

// Bounds on what one Try shows: a reproduction is meant to be typed or
// pasted, not to replay a load test.
const (
	maxDatagrams   = 4 // UDP datagrams
	maxConnections = 5 // TCP connections (each a command, or run at once)
)

// stagger is how long to wait, in seconds for sleep(1), between opening
// two connections netgrade opened gapMS apart: the gap, rounded up to a
// tenth of a second, at least half a second, so that by hand too they
// reach the program in that order; at most five seconds.
func stagger(gapMS float64) string {
	s := math.Ceil(gapMS/100) / 10
	return strconv.FormatFloat(min(max(s, 0.5), 5), 'f', -1, 64)
}

// Mail says how to reach netgrade's mail servers: the command a student
// runs to start one, and the password of its seeded mailbox, which takes
// the place of the masked one on the client's command line.
type Mail struct {
	// Serve is the command before the protocol, "netgrade serve".
	Serve string
	// Password is the mailbox's.
	Password string
	// Wrong is what a check's masked wrong password becomes.
	Wrong string
}

// DefaultMail is netgrade serve's (internal/mailserver's seed).
var DefaultMail = Mail{Serve: "netgrade serve", Password: mailserver.SeedPassword, Wrong: "not-the-password"}

// Annotate sets Try on every failed check of r that a student may read
// and whose transcript shows what to replay; other checks are left as
// they are.
func Annotate(r *report.Result, mail Mail) {
	for i := range r.Checks {
		c := &r.Checks[i]
		if c.Status != report.Fail || !c.StudentVisible() {
			continue
		}
		c.Try = For(*r, *c, mail)
	}
}

// For returns how to see c's failure by hand, or nil when its transcript
// holds no program started.
func For(r report.Result, c report.Check, mail Mail) *report.Try {
	start := -1
	for i, ev := range c.Transcript {
		if ev.Kind == report.EvStart && len(ev.Argv) > 0 {
			start = i // the last program started is the one judged
		}
	}
	if start < 0 {
		return nil
	}
	b := &builder{r: r, c: c, mail: mail, start: c.Transcript[start], after: c.Transcript[start+1:]}
	var try *report.Try
	switch proto := b.mailProto(); {
	case proto != "":
		try = b.mailClient(proto)
	case isClient(r.Command):
		try = b.client()
	default:
		try = b.server()
	}
	// One other terminal is enough: the steps after the first there
	// follow on in it.
	other := false
	for i, s := range try.Steps {
		if rest, ok := strings.CutPrefix(s.Say, "In another terminal, "); ok {
			if other {
				try.Steps[i].Say = "Then " + rest
			}
			other = true
		}
	}
	return try
}

// builder holds what one Try is built from.
type builder struct {
	r     report.Result
	c     report.Check
	mail  Mail
	start report.Event   // the start event of the program judged
	after []report.Event // the events after it
}

// isClient reports whether a command template runs a client: one told
// which host to reach.
func isClient(template []string) bool {
	for _, a := range template {
		if strings.Contains(a, "{host}") {
			return true
		}
	}
	return false
}

// program returns the shell command that runs the program as the check
// did: its environment (the faked clock through faketime), the
// interpreter as the course names it, the file by its name in the
// student's folder, the arguments, and stdin closed.
func (b *builder) program() string { return b.programWith(b.start.Argv) }

// programWith is program with argv in place of the start event's.
func (b *builder) programWith(argv []string) string {
	argv = slices.Clone(argv)
	if len(b.r.Command) > 0 && !strings.Contains(b.r.Command[0], "{") {
		argv[0] = b.r.Command[0]
	}
	if b.r.File != "" {
		base := filepath.Base(b.r.File)
		for i := 1; i < len(argv); i++ {
			if filepath.IsAbs(argv[i]) && filepath.Base(argv[i]) == base {
				argv[i] = base
			}
		}
	}
	var words []string
	var fake string
	for _, kv := range b.start.Env {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "FAKETIME":
			fake = v
		case k == "TZ" || k == "LANG" || strings.HasPrefix(k, "LC_"):
			words = append(words, k+"="+Quote(v))
		default:
			// The rest is how netgrade watches the program (libfaketime's
			// own settings, which faketime sets; the race hook's module
			// path; the reference's variables), nothing a student sets.
		}
	}
	if fake != "" {
		words = append(words, "faketime", "-f", Quote(fake))
	}
	for _, a := range argv {
		words = append(words, Quote(a))
	}
	return strings.Join(words, " ") + " < /dev/null"
}

// server builds the steps of a server's check: start it, then replay what
// netgrade sent it, datagrams, connections or HTTP requests.
func (b *builder) server() *report.Try {
	var net []report.TryStep
	var look string
	switch {
	case b.hasProto(report.EvHTTPRequest, "tcp"):
		net, look = b.tcpSteps(), "read the status line and the body curl shows (the lines after <) and what the server prints"
	case b.hasProto(report.EvSend, "udp"):
		net, look = b.udpSteps(), "read what the server prints for each datagram"
	case b.hasProto(report.EvConnect, "tcp") || b.hasProto(report.EvSend, "tcp"):
		net, look = b.tcpSteps(), "read what nc shows (the server's reply) and what the server prints"
	}
	if len(net) == 0 && !b.endedByItself() {
		return &report.Try{
			Steps: []report.TryStep{{Say: "Start your program as netgrade did, in your exercise's folder", Run: b.program(), Keep: true}},
			Look:  "read what it prints while it runs",
		}
	}
	if len(net) == 0 {
		return &report.Try{
			Steps: []report.TryStep{{Say: "Run your program as netgrade did, in your exercise's folder; the last line shows its exit status", Run: b.program() + `; echo "exit status: $?"`}},
			Look:  "read what it prints and how it ends",
		}
	}
	steps := []report.TryStep{{Say: "Start your server as netgrade did, in your exercise's folder, in a terminal of its own", Run: b.program(), Keep: true}}
	return &report.Try{Steps: append(steps, net...), Look: look}
}

// endedByItself reports whether the program ended before netgrade
// stopped it.
func (b *builder) endedByItself() bool {
	return slices.ContainsFunc(b.after, func(ev report.Event) bool {
		return ev.Kind == report.EvExit && !strings.Contains(ev.Data, "netgrade")
	})
}

// hasProto reports whether an event of kind over proto follows the start.
func (b *builder) hasProto(kind report.EventKind, proto string) bool {
	return slices.ContainsFunc(b.after, func(ev report.Event) bool { return ev.Kind == kind && ev.Proto == proto })
}

// hostPort splits an address into host and port ("127.0.0.1", "8080").
func hostPort(addr string) (string, string) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "127.0.0.1", ""
	}
	return h, p
}

// udpSteps sends each datagram netgrade sent, with nc.
func (b *builder) udpSteps() []report.TryStep {
	var steps []report.TryStep
	n := 0
	for _, ev := range b.after {
		if ev.Kind != report.EvSend || ev.Proto != "udp" {
			continue
		}
		n++
		if n > maxDatagrams {
			continue
		}
		host, port := hostPort(ev.To)
		steps = append(steps, report.TryStep{
			Say: fmt.Sprintf("In another terminal, send datagram %d (%s)", n, plural(ev.Bytes, "byte")),
			Run: fmt.Sprintf("printf %s | nc -u -w1 %s %s", Printf(ev.Data), host, port),
		})
	}
	if n > maxDatagrams {
		steps = append(steps, report.TryStep{Say: fmt.Sprintf("(netgrade sent %d more datagrams like these)", n-maxDatagrams)})
	}
	return steps
}

// conn is one TCP connection netgrade opened to the program.
type conn struct {
	local, remote string
	sent          []string       // bytes netgrade sent on it
	requests      []report.Event // HTTP requests netgrade sent on it
	halfClosed    bool           // netgrade shut down its sending side
	answered      bool           // the program sent something back
	refused       bool           // it could not be opened
	first, last   float64
}

// tcpConns returns netgrade's connections to the program, in the order
// they were opened, with what netgrade sent on each.
func (b *builder) tcpConns() []*conn {
	var conns []*conn
	by := map[string]*conn{}
	get := func(local, remote string, t float64) *conn {
		if c, ok := by[local]; ok {
			return c
		}
		c := &conn{local: local, remote: remote, first: t, last: t}
		by[local] = c
		conns = append(conns, c)
		return c
	}
	for i, ev := range b.after {
		if m := dialFailed.FindStringSubmatch(ev.Data); ev.Kind == report.EvNote && m != nil {
			// A connection the program refused: tried again by hand.
			get(fmt.Sprintf("refused-%d", i), m[1], ev.TimeMS).refused = true
			continue
		}
		if ev.Proto != "tcp" {
			continue
		}
		switch ev.Kind {
		case report.EvConnect, report.EvSend, report.EvHTTPRequest:
			c := get(ev.From, ev.To, ev.TimeMS)
			switch {
			case ev.Kind == report.EvSend:
				c.sent = append(c.sent, ev.Data)
			case ev.Kind == report.EvHTTPRequest && ev.HTTP != nil:
				c.requests = append(c.requests, ev)
			}
			c.last = ev.TimeMS
		case report.EvRecv, report.EvHTTPResponse:
			if c, ok := by[ev.To]; ok {
				c.last, c.answered = ev.TimeMS, true
			}
		case report.EvClose:
			if c, ok := by[ev.From]; ok {
				// netgrade's side: a shutdown of its sending side (nc -N
				// does the same), or the end of the connection.
				c.halfClosed = c.halfClosed || strings.Contains(ev.Data, "shut down")
				c.last = ev.TimeMS
			} else if c, ok := by[ev.To]; ok {
				c.last = ev.TimeMS
			}
		}
	}
	return conns
}

// dialFailed matches the note of a connection netgrade could not open
// (graders/probe's DialTCP), with the address it tried.
var dialFailed = regexp.MustCompile(`^connecting to (\S+) failed: `)

// tcpSteps opens each connection netgrade opened: with curl for one that
// carried HTTP requests, with nc sending what netgrade sent for another;
// connections that were open at the same time are opened at the same
// time.
func (b *builder) tcpSteps() []report.TryStep {
	conns := b.tcpConns()
	extra := 0
	if len(conns) > maxConnections {
		extra, conns = len(conns)-maxConnections, conns[:maxConnections]
	}
	var steps []report.TryStep
	for i := 0; i < len(conns); {
		j := i + 1
		end := conns[i].last
		for j < len(conns) && conns[j].first < end {
			end = max(end, conns[j].last)
			j++
		}
		if j-i == 1 {
			steps = append(steps, report.TryStep{Say: "In another terminal, " + connSay(conns[i]), Run: connCommand(conns[i])})
		} else {
			var run strings.Builder
			var says []string
			run.WriteString("(")
			for k, c := range conns[i:j] {
				// Each starts after the one before, as netgrade opened them:
				// what the check judges may be what the first ones do to
				// the next (a silent client holding a server).
				if k > 0 {
					fmt.Fprintf(&run, " sleep %s;", stagger(c.first-conns[i+k-1].first))
				}
				fmt.Fprintf(&run, " %s &", connCommand(c))
				if say := connSay(c); !slices.Contains(says, say) {
					says = append(says, say)
				}
			}
			run.WriteString(" wait )")
			steps = append(steps, report.TryStep{
				Say: fmt.Sprintf("In another terminal, open %d connections at once, as netgrade did: %s", j-i, strings.Join(says, "; ")),
				Run: run.String(),
			})
		}
		i = j
	}
	if extra > 0 {
		steps = append(steps, report.TryStep{Say: fmt.Sprintf("(netgrade opened %d more connections like these)", extra)})
	}
	return steps
}

// connSay says what a connection's command does.
func connSay(c *conn) string {
	switch {
	case c.refused:
		return "connect, as netgrade tried to (its connection was refused)"
	case len(c.requests) > 0:
		var names []string
		for _, r := range c.requests {
			names = append(names, requestName(r.HTTP))
		}
		return "send " + strings.Join(names, ", then ")
	case len(c.sent) == 0:
		return "connect without sending anything"
	}
	return "connect and send what netgrade sent"
}

// connCommand is the command of one connection: its HTTP requests, one
// after the other, or nc, which waits for the program's answer as long as
// netgrade saw the connection live and shuts down its sending side when
// netgrade did.
func connCommand(c *conn) string {
	host, port := hostPort(c.remote)
	wait := waitSeconds(c.last - c.first)
	if len(c.requests) > 0 {
		var cmds []string
		for _, r := range c.requests {
			cmd := httpCommand(r, host, port)
			if !c.answered {
				// No answer came: curl gives up when netgrade did (before
				// an nc beside it, which waits two seconds more).
				giveUp := max(1, int(math.Ceil((c.last-c.first)/1000)))
				cmd = strings.Replace(cmd, "curl -v", fmt.Sprintf("curl -v --max-time %d", giveUp), 1)
			}
			cmds = append(cmds, cmd)
		}
		return strings.Join(cmds, "; ")
	}
	// -v says whether the connection was accepted or refused.
	flags := fmt.Sprintf("-v -w%d", wait)
	if c.halfClosed {
		flags = "-N " + flags
	}
	if len(c.sent) == 0 {
		return fmt.Sprintf("nc %s %s %s < /dev/null", flags, host, port)
	}
	return fmt.Sprintf("printf %s | nc %s %s %s", Printf(strings.Join(c.sent, "")), flags, host, port)
}

// waitSeconds is how long nc waits without traffic before it gives up:
// the time netgrade saw, plus two seconds, at least two.
func waitSeconds(ms float64) int {
	return int(ms/1000) + 2
}

// requestName names a request for a step: "GET /date/paris".
func requestName(m *report.HTTPMessage) string {
	if m.Line != "" {
		return "the request " + strconv.Quote(m.Line)
	}
	return m.Method + " " + m.Path
}

// curlSkips are the headers curl sends by itself.
var curlSkips = map[string]bool{"host": true, "user-agent": true, "accept": true, "content-length": true, "connection": true}

// httpCommand is the command that sends one request as netgrade sent it.
func httpCommand(ev report.Event, host, port string) string {
	m := ev.HTTP
	raw := m.Line != "" || !strings.HasPrefix(m.Path, "/") || (m.Version != "HTTP/1.1" && m.Version != "HTTP/1.0") ||
		strings.ContainsAny(m.Path, " \t\"'\\") || m.Truncated
	if raw {
		line := m.Line
		if line == "" {
			line = m.Method + " " + m.Path + " " + m.Version
		}
		var sb strings.Builder
		sb.WriteString(line + "\r\n")
		for _, h := range m.Headers {
			sb.WriteString(h.Name + ": " + h.Value + "\r\n")
		}
		sb.WriteString("\r\n" + ev.Data)
		return fmt.Sprintf("printf %s | nc -w3 %s %s", Printf(sb.String()), host, port)
	}
	words := []string{"curl", "-v"}
	if m.Version == "HTTP/1.0" {
		words = append(words, "--http1.0")
	}
	if strings.Contains(m.Path, "/.") || strings.Contains(m.Path, "//") {
		words = append(words, "--path-as-is")
	}
	body := ev.Data != "" || ev.Bytes > 0
	if m.Method != "GET" || body {
		words = append(words, "-X", Quote(m.Method))
	}
	for _, h := range m.Headers {
		if !curlSkips[strings.ToLower(h.Name)] {
			words = append(words, "-H", Quote(h.Name+": "+h.Value))
		}
	}
	url := Quote("http://" + net.JoinHostPort(host, port) + m.Path)
	if body && hasEscapes(ev.Data) {
		return fmt.Sprintf("printf %s | %s --data-binary @- %s", Printf(ev.Data), strings.Join(words, " "), url)
	}
	if body {
		words = append(words, "--data-binary", Quote(ev.Data))
	}
	return strings.Join(append(words, url), " ")
}

// client builds the steps of a client's check: listen where netgrade
// listened, answering what netgrade answered, then run the client.
func (b *builder) client() *report.Try {
	port := b.clientPort()
	run := report.TryStep{Say: "In another terminal, in your exercise's folder, run your client as netgrade did; the last line shows its exit status", Run: b.program() + `; echo "exit status: $?"`}
	if port == "" {
		run.Say = "Run your client as netgrade did, in your exercise's folder; the last line shows its exit status"
		return &report.Try{Steps: []report.TryStep{run}, Look: "read what it prints and how it ends"}
	}
	var listen report.TryStep
	if b.hasProto(report.EvRecv, "tcp") || b.hasProto(report.EvConnect, "tcp") || b.hasProto(report.EvSend, "tcp") {
		var reply []string
		for _, ev := range b.after {
			if ev.Kind == report.EvSend && ev.Proto == "tcp" {
				reply = append(reply, ev.Data)
			}
		}
		listen = report.TryStep{Say: "In a terminal of its own, listen on the port as netgrade did; nc prints what the client sends", Keep: true,
			Run: fmt.Sprintf("nc -l 127.0.0.1 %s", port)}
		if len(reply) > 0 {
			listen.Say = "In a terminal of its own, listen on the port as netgrade did, answering what netgrade answered; nc prints what the client sends"
			listen.Run = fmt.Sprintf("printf %s | nc -l 127.0.0.1 %s", Printf(strings.Join(reply, "")), port)
		}
	} else {
		listen = report.TryStep{Say: "In a terminal of its own, listen for datagrams on the port as netgrade did; nc prints what the client sends", Keep: true,
			Run: fmt.Sprintf("nc -u -l 127.0.0.1 %s", port)}
	}
	return &report.Try{Steps: []report.TryStep{listen, run}, Look: "read what nc prints (what your client sent) and what your client prints"}
}

// clientPort is the port on the client's command line: the argument in
// the template's {port} place.
func (b *builder) clientPort() string {
	if len(b.r.Command) != len(b.start.Argv) {
		return ""
	}
	for i, a := range b.r.Command {
		if a == "{port}" {
			return b.start.Argv[i]
		}
	}
	return ""
}

// mailProto is the mail protocol the check's server spoke ("smtp",
// "pop3", "imap"), or "".
func (b *builder) mailProto() string {
	for _, ev := range b.c.Transcript {
		proto, _, _ := strings.Cut(ev.Proto, "/")
		switch proto {
		case "smtp", "pop3", "imap":
			return proto
		}
	}
	for _, ev := range b.c.Transcript {
		if ev.Kind != report.EvNote {
			continue
		}
		for _, p := range []string{"smtp", "pop3", "imap"} {
			if strings.HasPrefix(ev.Data, "netgrade's "+p+" server listens") {
				return p
			}
		}
	}
	return ""
}

// mailClient builds the steps of a mail client's check: netgrade serve
// on the check's port, then the client, with the mailbox's password in
// place of the masked one.
func (b *builder) mailClient(proto string) *report.Try {
	port := b.clientPort()
	serve := b.mail.Serve + " " + proto
	if port != "" {
		serve += " --port " + port
	}
	// The transcript masks passwords with one '*' a character: the
	// mailbox's has its length, a wrong one another.
	argv := slices.Clone(b.start.Argv)
	for i, a := range argv {
		if i > 0 && a != "" && strings.Trim(a, "*") == "" {
			if len(a) == len([]rune(b.mail.Password)) {
				argv[i] = b.mail.Password
			} else {
				argv[i] = b.mail.Wrong
			}
		}
	}
	run := b.programWith(argv) + `; echo "exit status: $?"`
	return &report.Try{
		Steps: []report.TryStep{
			{Say: fmt.Sprintf("In a terminal of its own, start netgrade's %s server, as the check did (STARTTLS offered, the seeded mailbox); it prints the dialogue", strings.ToUpper(proto)), Run: serve, Keep: true},
			{Say: "In another terminal, in your exercise's folder, run your client as netgrade did; the last line shows its exit status", Run: run},
		},
		Look: "read the dialogue netgrade serve prints and what your client prints",
	}
}

// plural says "1 byte", "10 bytes".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
