package sockets

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/report"
)

// The probes the UDP server checks send.
const (
	probeHello    = "hello"
	probeVerbatim = "50% off: %Y-%m-%d %s {0} \\n"
	// stampSpacing is the least time between the two datagrams of the
	// timestamp check: with millisecond stamps taken at receipt, their
	// stamps must differ.
	stampSpacing = 25 * time.Millisecond
	// stampTolerance is how far a logged time may be from the moment the
	// datagram was sent.
	stampTolerance = 2 * time.Second
)

// asctimeLayout is Python logging's asctime, in Go's notation.
const asctimeLayout = "2006-01-02 15:04:05,000"

// asctimeRe finds a timestamp in the shape of Python's asctime, also with a
// dot instead of the comma, to read the time of a line whose format is off.
var asctimeRe = regexp.MustCompile(`\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[,.]\d{3,6})?`)

// UDPServer is the udp-server exercise: `PROG PORT` logs every datagram.
func UDPServer() *graders.Exercise {
	e := &graders.Exercise{
		ID:    "udp-server",
		Title: "UDP server",
		Usage: "udp-server.py PORT",
		Args:  []string{"{port}"},
		Texts: map[string]string{
			"start_line": "Started server on UDP/{port}",
			"log_line":   `[{asctime}] client {ip} sent "{message}"`,
		},
		Floor: stampSpacing,
	}
	e.Checks = []*graders.Check{
		probe.StartsCheck("udp-server", "udp", "Read the port with int(sys.argv[1]) and bind (\"\", port)."),
		{
			ID: "udp-server/start-line", Title: "prints the start line",
			Requirement: "Before receiving anything it prints exactly `Started server on UDP/PORT`.",
			Category:    report.Format, Points: 1, Needs: []string{"udp-server/starts"},
			Hint: `Print f"Started server on UDP/{port}" once the socket is bound.`,
			Run:  checkStartLine,
		},
		{
			ID: "udp-server/log-format", Title: "logs a datagram in the course's format",
			Requirement: "For each datagram it prints one line `[YYYY-MM-DD HH:MM:SS,mmm] client IP sent \"MSG\"` (on stdout or stderr).",
			Category:    report.Format, Points: 2, Needs: []string{"udp-server/starts"},
			Hint: `Format the line as f'[{asctime}] client {ip} sent "{message}"': the IP alone (addr[0], not the tuple), no padding, the message in double quotes; logging's %(asctime)s gives the time.`,
			Run: func(ctx context.Context, t *graders.T) error {
				return logOne(t, []byte(probeHello), probeHello, true)
			},
		},
		{
			ID: "udp-server/timestamp", Title: "stamps each datagram with its time of receipt",
			Requirement: "The time in each log line is the local time the datagram arrived, to the millisecond.",
			Category:    report.Format, Points: 1, Needs: []string{"udp-server/starts"},
			Hint: "Take the time when each datagram arrives (datetime.now() inside the loop, or logging's %(asctime)s), not once at start-up.",
			Run:  checkTimestamp,
		},
		{
			ID: "udp-server/verbatim", Title: "logs the message verbatim, spaces and % signs included",
			Requirement: "The message is printed as received: `" + probeVerbatim + "` stays as it is.",
			Category:    report.Format, Points: 1, Needs: []string{"udp-server/starts"},
			Hint: "Never put the message inside a format string (strftime, % or logging's first argument): pass it as a value, e.g. logging.info('client %s sent \"%s\"', ip, msg).",
			Run: func(ctx context.Context, t *graders.T) error {
				return logOne(t, []byte(probeVerbatim), probeVerbatim, false)
			},
		},
		{
			ID: "udp-server/utf8", Title: "decodes a non-ASCII message as UTF-8",
			Requirement: "A datagram holding the UTF-8 bytes of `các bạn` (7 characters, 10 bytes) is logged as `các bạn`.",
			Category:    report.Encoding, Points: 1, Needs: []string{"udp-server/starts"},
			Hint: "Decode the bytes with data.decode('utf-8') before printing; printing the bytes object shows b'...'.",
			Run: func(ctx context.Context, t *graders.T) error {
				return logOne(t, []byte(probe.UTF8Text), probe.UTF8Text, false)
			},
		},
		{
			ID: "udp-server/many-clients", Title: "serves several datagrams from several clients",
			Requirement: "Five datagrams from three client sockets are all logged, in order, and the server is still running.",
			Category:    report.Lifecycle, Points: 2, Needs: []string{"udp-server/starts"},
			Hint: "Receive in a `while True:` loop; never close the socket or exit after a datagram.",
			Run:  checkManyClients,
		},
		{
			ID: "udp-server/invalid-utf8", Title: "survives a datagram that is not UTF-8",
			Requirement: "After a datagram of bytes that are not valid UTF-8, the server still runs and logs the next datagram.",
			Category:    report.Robustness, Points: 1, Needs: []string{"udp-server/starts"},
			Hint: "Decode with data.decode('utf-8', errors='replace') or catch UnicodeDecodeError: one bad datagram must not stop the server.",
			Run:  checkInvalidUTF8,
		},
		probe.UsageCheck("udp-server", "", "Check len(sys.argv); if the port is missing, print('Usage: udp-server.py PORT') and sys.exit(1)."),
	}
	return e
}

func checkStartLine(ctx context.Context, t *graders.T) error {
	p, port, err := probe.StartServer(t, "udp")
	if err != nil {
		return err
	}
	want := strings.ReplaceAll(t.Text("start_line"), "{port}", strconv.Itoa(port))
	// The start line may come just after the bind: wait for it, then judge
	// the lines printed so far.
	if _, _, ok := probe.WaitLine(t, p, 0, probe.LineTimeout, func(s string) bool { return s == want }); ok {
		return nil
	}
	lines := p.Output().Lines()
	if len(lines) == 0 {
		return graders.Failf("nothing was printed within %s of binding the port", t.Timeout(probe.LineTimeout)).Want(want, "(nothing)")
	}
	closest := lines[0].Text
	for _, l := range lines {
		if strings.Contains(strings.ToLower(l.Text), "start") {
			closest = l.Text
			break
		}
	}
	return graders.Failf("the start line is not exactly as the course fixes it").Want(want, closest)
}

// logPattern compiles the course's log line template into a regexp for a
// given sender IP and message.
func logPattern(tmpl, ip, msg string) *regexp.Regexp {
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
			b.WriteString(`(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3})`)
		case "ip":
			b.WriteString(regexp.QuoteMeta(ip))
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

// expectedLog renders the course's log line for a sender and message, with
// the timestamp taken from the student's line when it has one, so that a
// diff shows only the real difference.
func expectedLog(tmpl, ip, msg, got string) string {
	stamp := "YYYY-MM-DD HH:MM:SS,mmm"
	if m := asctimeRe.FindString(got); len(m) == len(asctimeLayout) && strings.Contains(m, ",") {
		stamp = m
	}
	r := strings.NewReplacer("{asctime}", stamp, "{ip}", ip, "{message}", msg)
	return r.Replace(tmpl)
}

// logOne sends one datagram and checks the line logged for it: the whole
// line against the course's format when strict, else only that the message
// stands in it unchanged (so that one format mistake fails one check).
func logOne(t *graders.T, data []byte, msg string, strict bool) error {
	p, port, err := probe.StartServer(t, "udp")
	if err != nil {
		return err
	}
	peer, err := probe.NewUDPPeer(t, "127.0.0.1", 0)
	if err != nil {
		return err
	}
	from := p.Output().Len()
	if err := peer.Send(port, data); err != nil {
		return err
	}
	line, ok, err := awaitLog(t, p, from, msg)
	if err != nil || !ok {
		return err
	}
	if !strict {
		if strings.Contains(line, msg) {
			return nil
		}
		return graders.Failf("the log line does not hold the message as it was sent").
			Want(fmt.Sprintf("a line holding %s", msg), line)
	}
	return judgeLog(t, line, msg)
}

// awaitLog waits for the line logged for a datagram carrying msg: the first
// new line holding msg or the sender's address. When none comes it returns
// a failure that says what was printed instead.
func awaitLog(t *graders.T, p *harness.Process, from int, msg string) (string, bool, error) {
	l, _, ok := probe.WaitLine(t, p, from, probe.LineTimeout, func(s string) bool {
		return strings.Contains(s, msg) || strings.Contains(s, "127.0.0.1")
	})
	if ok {
		return l.Text, true, nil
	}
	if !p.Running() {
		_ = p.WaitOutput(t.Context())
		return "", false, graders.Failf("the program ended after receiving the datagram %q (%s)", msg, p.Exit()).
			Want(expectedLog(t.Text("log_line"), "127.0.0.1", msg, ""), probe.PrintedSince(p, from))
	}
	return "", false, graders.Failf("no line was printed for the datagram %q within %s", msg, t.Timeout(probe.LineTimeout)).
		Want(expectedLog(t.Text("log_line"), "127.0.0.1", msg, ""), probe.PrintedSince(p, from)).
		WithHint("Print one line per datagram as soon as it arrives. If it was printed with print(), it may still sit in a buffer: this grader reads output as a terminal shows it, so check the line is printed inside the receive loop.")
}

// judgeLog compares a logged line with the course's format.
func judgeLog(t *graders.T, line, msg string) error {
	tmpl := t.Text("log_line")
	if logPattern(tmpl, "127.0.0.1", msg).MatchString(line) {
		return nil
	}
	want := expectedLog(tmpl, "127.0.0.1", msg, line)
	f := graders.Failf("the log line is not in the course's format").Want(want, line)
	switch {
	case !strings.Contains(line, msg):
		f.Message = fmt.Sprintf("the log line does not hold the message %q as it was sent", msg)
	case strings.Contains(line, "('127.0.0.1',"):
		f.Message = "the log line shows the sender as a (host, port) tuple; the course logs the IP address alone"
		f.Hint = "addr is a tuple (ip, port): print addr[0]."
	case strings.Contains(line, "b'") || strings.Contains(line, `b"`):
		f.Message = "the log line shows a bytes object (b'...'); decode the datagram first"
		f.Hint = "Use data.decode('utf-8')."
	case regexp.MustCompile(`127\.0\.0\.1 {2,}`).MatchString(line):
		f.Message = "the IP address is padded with spaces (e.g. %-15s); the course prints it as it is"
	case !strings.Contains(line, `"`+msg+`"`):
		f.Message = "the message is not between double quotes"
	case asctimeRe.FindString(line) == "":
		f.Message = "the log line has no timestamp in the form [YYYY-MM-DD HH:MM:SS,mmm]"
	}
	return f
}

// stampOf returns the time in a log line, read as local time.
func stampOf(line string) (time.Time, string, bool) {
	m := asctimeRe.FindString(line)
	if m == "" {
		return time.Time{}, "", false
	}
	norm := strings.Replace(strings.Replace(m, "T", " ", 1), ".", ",", 1)
	layout := asctimeLayout
	if !strings.Contains(norm, ",") {
		layout = "2006-01-02 15:04:05"
	} else if len(norm) > len(asctimeLayout) {
		layout = "2006-01-02 15:04:05,000000"
		norm = norm[:len(layout)]
	}
	ts, err := time.ParseInLocation(layout, norm, time.Local)
	return ts, m, err == nil
}

func checkTimestamp(ctx context.Context, t *graders.T) error {
	p, port, err := probe.StartServer(t, "udp")
	if err != nil {
		return err
	}
	peer, err := probe.NewUDPPeer(t, "127.0.0.1", 0)
	if err != nil {
		return err
	}
	type sent struct {
		msg  string
		at   time.Time
		seen time.Time
		line string
	}
	probes := []*sent{{msg: "tick"}, {msg: "tock"}}
	for i, s := range probes {
		if i > 0 {
			// Space the datagrams so that stamps taken at receipt differ,
			// counting from when the previous line was seen: on a loaded
			// machine the program may take its stamp late, but never after
			// printing it.
			if wait := stampSpacing - time.Since(probes[i-1].seen); wait > 0 {
				time.Sleep(wait)
			}
		}
		from := p.Output().Len()
		s.at = time.Now()
		if err := peer.Send(port, []byte(s.msg)); err != nil {
			return err
		}
		line, ok, err := awaitLog(t, p, from, s.msg)
		if !ok {
			return err
		}
		s.line, s.seen = line, time.Now()
	}
	var stamps []time.Time
	for _, s := range probes {
		ts, raw, ok := stampOf(s.line)
		if !ok {
			return graders.Failf("the line logged for %q has no timestamp that can be read", s.msg).
				Want("[YYYY-MM-DD HH:MM:SS,mmm] at the start of the line", s.line)
		}
		if d := ts.Sub(s.at); d > stampTolerance || d < -stampTolerance {
			return graders.Failf("the datagram %q was sent at %s but logged with the time %s (%s away)",
				s.msg, s.at.Format(asctimeLayout), raw, d.Round(time.Millisecond)).
				Want(fmt.Sprintf("a time within %s of %s (local time)", stampTolerance, s.at.Format(asctimeLayout)), raw)
		}
		stamps = append(stamps, ts)
	}
	if !stamps[1].After(stamps[0]) {
		gap := probes[1].at.Sub(probes[0].at).Round(time.Millisecond)
		return graders.Failf("two datagrams sent %s apart were logged with the same time: the time is not taken when each datagram arrives", gap).
			Want(fmt.Sprintf("two different times, about %s apart", gap), probes[0].line+"\n"+probes[1].line)
	}
	return nil
}

func checkManyClients(ctx context.Context, t *graders.T) error {
	p, port, err := probe.StartServer(t, "udp")
	if err != nil {
		return err
	}
	peers := make([]*probe.UDPPeer, 3)
	for i := range peers {
		if peers[i], err = probe.NewUDPPeer(t, "127.0.0.1", 0); err != nil {
			return err
		}
	}
	msgs := []string{"first-one", "second-two", "third-three", "fourth-four", "fifth-five"}
	from := p.Output().Len()
	for i, m := range msgs {
		if err := peers[i%len(peers)].Send(port, []byte(m)); err != nil {
			return err
		}
	}
	var logged []string
	next := from
	for _, m := range msgs {
		l, i, ok := probe.WaitLine(t, p, next, probe.LineTimeout, func(s string) bool { return strings.Contains(s, m) })
		if !ok {
			want := strings.Join(msgs, ", ")
			got := probe.PrintedSince(p, from)
			if !p.Running() {
				_ = p.WaitOutput(t.Context())
				return graders.Failf("only %d of %d datagrams were logged: the program ended (%s) after %d", len(logged), len(msgs), p.Exit(), len(logged)).
					Want("a line for each of: "+want, probe.PrintedSince(p, from))
			}
			return graders.Failf("only %d of %d datagrams were logged in order; no line for %q within %s", len(logged), len(msgs), m, t.Timeout(probe.LineTimeout)).
				Want("a line for each of, in this order: "+want, got)
		}
		logged = append(logged, l.Text)
		next = i + 1
	}
	return probe.StillRunning(t, p, "after five datagrams")
}

func checkInvalidUTF8(ctx context.Context, t *graders.T) error {
	p, port, err := probe.StartServer(t, "udp")
	if err != nil {
		return err
	}
	peer, err := probe.NewUDPPeer(t, "127.0.0.1", 0)
	if err != nil {
		return err
	}
	from := p.Output().Len()
	if err := peer.Send(port, []byte("caf\xe9 \xff\xfe")); err != nil {
		return err
	}
	if err := peer.Send(port, []byte("still there?")); err != nil {
		return err
	}
	if _, _, ok := probe.WaitLine(t, p, from, probe.LineTimeout, func(s string) bool { return strings.Contains(s, "still there?") }); ok {
		return probe.StillRunning(t, p, "after a datagram that is not UTF-8")
	}
	if !p.Running() {
		_ = p.WaitOutput(t.Context())
		return graders.Failf("the program ended on a datagram that is not valid UTF-8 (%s)", p.Exit()).
			Want(`a log line for the next datagram, "still there?"`, probe.PrintedSince(p, from))
	}
	return graders.Failf("after a datagram that is not valid UTF-8, the next datagram was not logged within %s", t.Timeout(probe.LineTimeout)).
		Want(`a log line for "still there?"`, probe.PrintedSince(p, from))
}
