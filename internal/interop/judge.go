package interop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/observe"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/report"
)

// Diagnoses are the usual culprits a cell names, by key: what a student's
// page and the matrix's legend say about them.
var Diagnoses = map[string]string{
	"latin1-client":   "the client encodes the message in Latin-1, not UTF-8",
	"utf16-client":    "the client encodes the message in UTF-16, not UTF-8",
	"part-message":    "the client sends only part of the message",
	"extra-newline":   "the client adds a newline to the message",
	"many-datagrams":  "the client sends the message more than once",
	"nothing-sent":    "the client sends nothing to the port it is given",
	"waits-reply":     "the client waits for a reply the UDP server never sends",
	"client-crash":    "the client stops with an error after sending",
	"client-bytes":    "the client prints the reply as a bytes object (b'…')",
	"latin1-print":    "the client decodes the reply as Latin-1",
	"no-print":        "the client does not print the server's reply",
	"waits-close":     "the client waits for the server to close the connection",
	"other-port":      "the server binds another port than the one given",
	"server-bytes":    "the server logs the message as a bytes object (b'…')",
	"latin1-server":   "the server decodes the message as Latin-1",
	"no-log":          "the server does not print the message it received",
	"log-format":      "the server's log line is not the course's",
	"server-crash":    "the server stops on the message",
	"no-reply":        "the server never replies",
	"waits-eof":       "the server waits for the client to close before it replies",
	"not-upper":       "the server's reply is not the message upper-cased",
	"reply-not-utf8":  "the server's reply is not UTF-8 text",
	"server-no-start": "the server does not start",
	"client-no-start": "the client does not start",
}

// run is a cell while it runs.
type run struct {
	req    Request
	begin  time.Time
	port   int
	server program
	relay  *relay
	// client is set once started; the relay reads it (clientIdle).
	mu     sync.Mutex
	client program
}

// clientIdle reports whether the client is waiting to read (see pipe).
func (c *run) clientIdle() bool {
	c.mu.Lock()
	p := c.client
	c.mu.Unlock()
	return p != nil && p.waitingToRead()
}

// stopAll stops both programs and the relay.
func (c *run) stopAll() {
	if c.client != nil {
		c.client.stop()
	}
	if c.server != nil {
		c.server.stop()
	}
	if c.relay != nil {
		c.relay.close()
	}
}

// verdict builds an outcome blaming a side for a usual culprit.
func verdict(v Verdict, culprit, diag, format string, args ...any) *Outcome {
	return &Outcome{Verdict: v, Culprit: culprit, Diagnosis: diag, Reason: fmt.Sprintf(format, args...)}
}

// crashed says how a program that ended on its own ended, with the last
// line of its traceback: "" when it still runs or was stopped by netgrade.
func crashed(p program) string {
	if !ended(p) {
		return ""
	}
	code, ok := p.exitCode()
	if !ok || code == 0 {
		return ""
	}
	s := p.status()
	lines := p.lines()
	if tb := pyenv.LastTraceback(lines); tb != nil {
		return s + ": " + tb.Line
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i].Stream == harness.Stderr && strings.TrimSpace(lines[i].Text) != "" {
			return s + ": " + lines[i].Text
		}
	}
	return s
}

// crashedOr is crashed, or the program's status.
func crashedOr(p program) string {
	if s := crashed(p); s != "" {
		return s
	}
	return p.status()
}

// ended reports whether the program has ended, and then waits until what
// it printed is read.
func ended(p program) bool {
	select {
	case <-p.done():
		p.drain()
		return true
	default:
		return false
	}
}

// notBound explains a server that never bound its port.
func (c *run) notBound(ready observe.Readiness, err error) *Outcome {
	if errors.Is(err, observe.ErrExited) || ended(c.server) {
		why := crashed(c.server)
		if why == "" {
			why = c.server.status()
		}
		return verdict(Grey, "server", "server-no-start", "the server stopped before it bound a port (%s)", why)
	}
	for _, s := range ready.Held {
		if s.Proto == c.req.Proto || strings.HasPrefix(s.Proto, c.req.Proto) {
			return verdict(Red, "server", "other-port", "the server bound %s, not the port it was given (%d)", s, c.port)
		}
	}
	return verdict(Red, "server", "server-no-start", "the server bound no %s port within %s", strings.ToUpper(c.req.Proto), scaled(startDeadline, c.req.TimeoutScale))
}

// waitDone waits until p ends or d passes; it reports whether p ended.
func waitDone(ctx context.Context, p program, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done():
		p.drain()
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// waitEnd waits, up to window, until p ends; the window is extended by
// the time p waited for a CPU meanwhile (a loaded machine's delay is not
// the program's), up to four windows in all. It reports whether p ended.
func waitEnd(ctx context.Context, p program, window time.Duration) bool {
	before := p.runDelays()
	wait, total := window, time.Duration(0)
	for {
		if waitDone(ctx, p, wait) {
			return true
		}
		total += wait
		now := p.runDelays()
		grown := now.Grown(before)
		if grown < 10*time.Millisecond || total >= 4*window || ctx.Err() != nil {
			return false
		}
		before, wait = now, grown
	}
}

// latin1 encodes s as Python's s.encode("latin-1", errors="replace") does.
func latin1(s string) []byte {
	var b []byte
	for _, r := range s {
		if r < 256 {
			b = append(b, byte(r))
		} else {
			b = append(b, '?')
		}
	}
	return b
}

// mojibake is s's UTF-8 bytes read as Latin-1: how a server that decodes
// with Latin-1 shows it.
func mojibake(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		b.WriteRune(rune(c))
	}
	return b.String()
}

// utf16LE encodes s as Python's s.encode("utf-16") does on a little-endian
// machine: a byte-order mark, then UTF-16LE.
func utf16LE(s string) []byte {
	b := []byte{0xff, 0xfe}
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			hi, lo := 0xd800+(r>>10), 0xdc00+(r&0x3ff)
			b = append(b, byte(hi), byte(hi>>8), byte(lo), byte(lo>>8))
			continue
		}
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}

// pyWhitespace is what Python's str.strip() removes of ASCII.
const pyWhitespace = " \t\n\r\x0b\x0c"

// judgeMessage judges the bytes the client sent against the message: ""
// when they are the message (a trailing newline is accepted over TCP,
// where the course's servers strip).
func (c *run) judgeMessage(got []byte) *Outcome {
	msg := c.req.Message
	want := []byte(msg)
	switch {
	case bytes.Equal(got, want):
		return nil
	case c.req.Proto == "tcp" && bytes.Equal(bytes.TrimRight(got, pyWhitespace), want):
		return nil
	case bytes.Equal(bytes.TrimRight(got, "\r\n"), want):
		return verdict(Amber, "client", "extra-newline", "the message arrived with a newline added: %q", report.Printable(got))
	case bytes.Equal(got, latin1(msg)):
		return verdict(Amber, "client", "latin1-client", "the client sent the message in Latin-1 (%q), not UTF-8: the server cannot read it", report.Printable(got))
	case bytes.Equal(got, utf16LE(msg)):
		return verdict(Amber, "client", "utf16-client", "the client sent the message in UTF-16 (a byte-order mark and zero bytes), not UTF-8")
	case len(got) > 0 && len(got) < len(want) && bytes.HasPrefix(want, got):
		return verdict(Amber, "client", "part-message", "only part of the message arrived: %q of %q", report.Printable(got), msg)
	case len(got) == 0:
		return verdict(Amber, "client", "nothing-sent", "the client's datagram was empty")
	}
	return verdict(Amber, "client", "", "the client sent %q, not the message %q", report.Printable(got), msg)
}

// linesAfter returns the program's lines printed at or after t.
func linesAfter(p program, t time.Time) []harness.Line {
	var out []harness.Line
	for _, l := range p.lines() {
		if !l.Time.Before(t) {
			out = append(out, l)
		}
	}
	return out
}

// firstWord is the message's first word: every way of printing the
// message (text, bytes object, another decoding) holds it.
func (c *run) firstWord() string {
	w, _, _ := strings.Cut(c.req.Message, " ")
	return w
}

// waitPrinted waits, up to endWindow, for the server to print a line
// holding the message's first word (or to end).
func (c *run) waitPrinted(ctx context.Context, from time.Time) (harness.Line, bool) {
	window := scaled(endWindow, c.req.TimeoutScale)
	deadline, last := time.Now().Add(window), time.Now().Add(4*window)
	before := c.server.runDelays()
	word := c.firstWord()
	for {
		// A server that ended has its output read to the end first (ended
		// drains it): the line may have come with its last bytes.
		gone := ended(c.server)
		for _, l := range linesAfter(c.server, from) {
			if strings.Contains(l.Text, word) {
				return l, true
			}
		}
		if time.Now().After(deadline) && deadline.Before(last) {
			// The time the server waited for a CPU is not its own.
			now := c.server.runDelays()
			if deadline = deadline.Add(now.Grown(before)); deadline.After(last) {
				deadline = last
			}
			before = now
		}
		if gone || time.Now().After(deadline) || ctx.Err() != nil {
			return harness.Line{}, false
		}
		t := time.NewTimer(10 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
		case <-c.server.done():
		}
		t.Stop()
	}
}

// judgeLog judges the line the server printed for the message (log: the
// course's log line is required, UDP). The bytes object is accepted from
// tcp-upper, whose course example prints it.
func (c *run) judgeLog(ctx context.Context, from time.Time, log bool) *Outcome {
	bytesOK := c.req.Server == "tcp-upper"
	l, ok := c.waitPrinted(ctx, from)
	msg := c.req.Message
	if !ok {
		if why := crashed(c.server); why != "" {
			return verdict(Amber, "server", "server-crash", "the message arrived, but the server stopped on it (%s)", why)
		}
		if after := linesAfter(c.server, from); len(after) > 0 {
			return verdict(Amber, "server", "", "the server printed %q, not the message", after[len(after)-1].Text)
		}
		return verdict(Amber, "server", "no-log", "the message arrived, but the server printed nothing for it within %s", scaled(endWindow, c.req.TimeoutScale))
	}
	switch {
	case bytesOK && (strings.Contains(l.Text, "b'") || strings.Contains(l.Text, `b"`)):
		return nil
	case strings.Contains(l.Text, "b'") || strings.Contains(l.Text, `b"`):
		return verdict(Amber, "server", "server-bytes", "the server logged the message as a bytes object: %s", l.Text)
	case strings.Contains(l.Text, mojibake(msg)):
		return verdict(Amber, "server", "latin1-server", "the server decoded the message as Latin-1: %s", l.Text)
	case !strings.Contains(l.Text, msg):
		return verdict(Amber, "server", "", "the server logged the message garbled: %s", l.Text)
	}
	if log && c.req.LogLine != "" && !logPattern(c.req.LogLine, msg).MatchString(l.Text) {
		return verdict(Amber, "server", "log-format", "the server logged the message, but not in the course's line: %s", l.Text)
	}
	return nil
}

// logPattern compiles the course's log line template for a message, any
// sender IP and timestamp.
func logPattern(tmpl, msg string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	rest := tmpl
	for rest != "" {
		i := strings.Index(rest, "{")
		j := strings.Index(rest, "}")
		if i < 0 || j < i {
			b.WriteString(regexp.QuoteMeta(rest))
			break
		}
		b.WriteString(regexp.QuoteMeta(rest[:i]))
		switch rest[i+1 : j] {
		case "asctime":
			b.WriteString(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}`)
		case "ip":
			b.WriteString(`127\.0\.0\.1`)
		case "message":
			b.WriteString(regexp.QuoteMeta(msg))
		default:
			b.WriteString(regexp.QuoteMeta(rest[i : j+1]))
		}
		rest = rest[j+1:]
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// silentClient explains a client whose message never reached the relay:
// what is "sent a datagram" or "connected".
func (c *run) silentClient(what string) *Outcome {
	if why := crashed(c.client); why != "" {
		return verdict(Grey, "client", "client-no-start", "the client stopped before it %s (%s)", what, why)
	}
	if ended(c.client) {
		return verdict(Red, "client", "nothing-sent", "nothing reached the port the client was given: it %s without having %s there", c.client.status(), what)
	}
	return verdict(Red, "client", "nothing-sent", "nothing reached the port the client was given: it had not %s there %s after it started (still running)", what, scaled(talkDeadline, c.req.TimeoutScale))
}

// talkUDP runs the client against a UDP server and judges: the datagram
// holds the message, the server logs it in the course's line, the client
// ends once it has sent.
func (c *run) talkUDP(ctx context.Context) *Outcome {
	rec := c.relay.rec
	tctx, cancel := context.WithTimeout(ctx, scaled(talkDeadline, c.req.TimeoutScale))
	defer cancel()
	arrived := func(evs []event) bool { _, n := bytesDir(evs, toServer); return n > 0 }
	go func() {
		<-c.client.done()
		cancel()
	}()
	rec.wait(tctx, arrived)
	// A datagram sent just before the client ended is read now.
	c.relay.sync(ctx)
	evs, _ := rec.snapshot()
	if !arrived(evs) {
		return c.silentClient("sent a datagram")
	}
	var first event
	for _, e := range evs {
		if e.Dir == toServer {
			first = e
			break
		}
	}
	clientEnded := waitEnd(ctx, c.client, scaled(endWindow, c.req.TimeoutScale))
	c.relay.sync(ctx)
	evs, _ = rec.snapshot()
	_, count := bytesDir(evs, toServer)
	if out := c.judgeMessage(first.Data); out != nil {
		return out
	}
	if out := c.judgeLog(ctx, first.At, true); out != nil {
		return out
	}
	if count > 1 {
		return verdict(Amber, "client", "many-datagrams", "the client sent the message in %d datagrams, not one", count)
	}
	if !clientEnded {
		if c.client.waitingToRead() {
			return verdict(Amber, "client", "waits-reply", "the message arrived, but the client then waited for a reply a UDP server never sends (still running %s later)", scaled(endWindow, c.req.TimeoutScale))
		}
		return verdict(Amber, "client", "", "the message arrived, but the client was still running %s later", scaled(endWindow, c.req.TimeoutScale))
	}
	if why := crashed(c.client); why != "" {
		return verdict(Amber, "client", "client-crash", "the message arrived, but the client then %s", why)
	}
	return &Outcome{Verdict: Green, Reason: "the message arrived whole and the server logged it"}
}

// drainClient waits, once the client has ended, until the relay has read
// its side of every connection to the end (the close or a reset), or
// endWindow passes. What a client sent comes before its close on the
// stream, so the relay has then recorded every byte of it. Without this
// wait a client that sends, reads a greeting the server sent at once and
// ends in a few milliseconds (netgrade's reference client, in the
// runner) could end before the relay's reader had run, and the cell would
// say it sent nothing: on a busy machine, one cell in a few thousand.
func (c *run) drainClient(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, scaled(endWindow, c.req.TimeoutScale))
	defer cancel()
	c.relay.rec.wait(ctx, func(evs []event) bool {
		opened, ended := 0, 0
		for _, e := range evs {
			switch {
			case e.Dir != note:
			case e.Text == noteConnected:
				opened++
			case e.Text == noteClientClosed, e.Text == noteClientReset, e.Text == noteRefused:
				ended++
			}
		}
		return ended >= opened
	})
}

// talkTCP runs the client against a TCP server and judges: the message
// arrives whole, the server prints it and replies (upper-cased for
// tcp-upper), the client prints the reply and ends.
func (c *run) talkTCP(ctx context.Context) *Outcome {
	rec := c.relay.rec
	tctx, cancel := context.WithTimeout(ctx, scaled(talkDeadline, c.req.TimeoutScale))
	defer cancel()
	go func() {
		select {
		case <-c.client.done():
		case <-tctx.Done():
		}
		cancel()
	}()
	replied := func(evs []event) bool { _, n := bytesDir(evs, toClient); return n > 0 }
	rec.wait(tctx, replied)
	clientEnded := waitEnd(ctx, c.client, scaled(endWindow, c.req.TimeoutScale))
	if clientEnded {
		c.drainClient(ctx)
	}
	serverWaiting := c.server.waitingToRead()
	clientWaiting := !clientEnded && c.client.waitingToRead()
	evs, _ := rec.snapshot()
	if !hasNote(evs, noteConnected) {
		return c.silentClient("connected")
	}
	if hasNote(evs, noteRefused) {
		return verdict(Red, "server", "", "the server refused the connection on its port %d", c.port)
	}
	sent, _ := bytesDir(evs, toServer)
	if len(sent) == 0 {
		if why := crashed(c.client); why != "" {
			return verdict(Red, "client", "client-crash", "the client connected, then %s before it sent anything", why)
		}
		return verdict(Red, "client", "nothing-sent", "the client connected but sent nothing")
	}
	if out := c.judgeMessage(sent); out != nil {
		return out
	}
	var sentAt time.Time
	for _, e := range evs {
		if e.Dir == toServer {
			sentAt = e.At
			break
		}
	}
	reply, _ := bytesDir(evs, toClient)
	if len(reply) == 0 {
		if serverWaiting && clientWaiting && !hasNote(evs, noteClientClosed) && !ended(c.server) {
			return verdict(Amber, "server", "waits-eof", "the message arrived, but the server waits for more (the client closing its side?) before it replies, while the client waits for the reply")
		}
		if out := c.judgeLog(ctx, sentAt, false); out != nil {
			return out
		}
		return verdict(Amber, "server", "no-reply", "the server printed the message but never replied")
	}
	upper := c.req.Server == "tcp-upper"
	switch {
	case !utf8.Valid(reply):
		return verdict(Amber, "server", "reply-not-utf8", "the server's reply is not UTF-8 text: %q", report.Printable(reply))
	case upper && !isUpper(strings.Trim(string(reply), pyWhitespace), c.req.Message):
		if string(reply) == mojibake(strings.ToUpper(c.req.Message)) || strings.Contains(string(reply), strings.ToUpper(mojibake(c.req.Message))) {
			return verdict(Amber, "server", "latin1-server", "the server upper-cased the message read as Latin-1: %q", report.Printable(reply))
		}
		return verdict(Amber, "server", "not-upper", "the server answered %q, not the message upper-cased (%q)", report.Printable(reply), strings.ToUpper(c.req.Message))
	}
	if out := c.judgeLog(ctx, sentAt, false); out != nil {
		return out
	}
	if !clientEnded {
		if clientWaiting {
			return verdict(Amber, "client", "waits-close", "the reply reached the client, but the client then waited for more (the server closing the connection?) while the server waited for it (still running %s later)", scaled(endWindow, c.req.TimeoutScale))
		}
		return verdict(Amber, "client", "", "the reply reached the client, but the client was still running %s later", scaled(endWindow, c.req.TimeoutScale))
	}
	if out := c.judgePrinted(reply); out != nil {
		if repliedAfterClose(evs) {
			// The client gave up waiting (its own timeout) and closed;
			// only then did the server reply.
			return verdict(Amber, "server", "waits-eof", "the server replied only once the client had closed its side, too late for the client (%s): it waits for the end of the data before it replies", crashedOr(c.client))
		}
		return out
	}
	if why := crashed(c.client); why != "" {
		return verdict(Amber, "client", "client-crash", "the client printed the reply, then %s", why)
	}
	return &Outcome{Verdict: Green, Reason: "the message arrived whole, the server printed it and replied, and the client printed the reply"}
}

// repliedAfterClose reports whether the server's first reply came after
// the client closed its side.
func repliedAfterClose(evs []event) bool {
	for _, e := range evs {
		switch {
		case e.Dir == toClient && e.Data != nil:
			return false
		case e.Dir == note && (e.Text == noteClientClosed || e.Text == noteClientReset):
			return true
		}
	}
	return false
}

// isUpper reports whether reply is msg upper-cased: as text (str.upper())
// or, as the course's own socketserver example does on bytes, its ASCII
// letters only (bytes.upper()).
func isUpper(reply, msg string) bool {
	if reply == strings.ToUpper(msg) {
		return true
	}
	b := []byte(msg)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return reply == string(b)
}

// judgePrinted judges whether the client printed the server's reply: some
// non-empty line of the reply, as text.
func (c *run) judgePrinted(reply []byte) *Outcome {
	printed := c.client.lines()
	var want []string
	for _, l := range strings.Split(string(reply), "\n") {
		if l = strings.Trim(l, pyWhitespace); l != "" {
			want = append(want, l)
		}
	}
	if len(want) == 0 {
		return nil
	}
	for _, p := range printed {
		for _, w := range want {
			if strings.Contains(p.Text, w) {
				return nil
			}
		}
	}
	for _, p := range printed {
		switch {
		case strings.Contains(p.Text, "b'") || strings.Contains(p.Text, `b"`):
			return verdict(Amber, "client", "client-bytes", "the client printed the reply as a bytes object: %s", p.Text)
		case strings.Contains(p.Text, mojibake(want[0])):
			return verdict(Amber, "client", "latin1-print", "the client decoded the reply as Latin-1: %s", p.Text)
		}
	}
	return verdict(Amber, "client", "no-print", "the client did not print the server's reply %q", want[0])
}

// finish completes an outcome with the transcripts and the time taken.
func (c *run) finish(out *Outcome) *Outcome {
	if c.client != nil {
		c.client.stop()
		out.ClientLog = transcript(c.client, c.begin)
	}
	if c.server != nil {
		c.server.stop()
		out.ServerLog = transcript(c.server, c.begin)
	}
	if c.relay != nil {
		c.relay.close()
		evs, _ := c.relay.rec.snapshot()
		for _, e := range evs {
			if e.Text == noteMarker {
				continue
			}
			at := e.At.Sub(c.begin).Seconds()
			if e.Data != nil {
				out.Wire = append(out.Wire, fmt.Sprintf("+%.3fs %s, %d bytes: %s", at, e.Dir, len(e.Data), strconv.Quote(report.Printable(e.Data))))
			} else {
				out.Wire = append(out.Wire, fmt.Sprintf("+%.3fs %s", at, e.Text))
			}
		}
	}
	out.DurationMS = time.Since(c.begin).Milliseconds()
	return out
}

// maxTranscript bounds the lines kept of a program's output in a cell.
const maxTranscript = 40

// transcript is what a program printed, with times, and how it ended.
func transcript(p program, begin time.Time) []string {
	var out []string
	lines := p.lines()
	for i, l := range lines {
		if i == maxTranscript {
			out = append(out, fmt.Sprintf("… %d more lines", len(lines)-maxTranscript))
			break
		}
		out = append(out, fmt.Sprintf("+%.3fs %s: %s", l.Time.Sub(begin).Seconds(), l.Stream, l.Text))
	}
	return append(out, p.status())
}
