package sockets

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/checks"
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
		Needs: checks.StartsID,
		Floor: stampSpacing,
	}
	e.Checks = []*graders.Check{
		checks.Starts("udp", "Read the port with int(sys.argv[1]) and bind (\"\", port)."),
		{
			ID: "start-line", Title: "prints the start line",
			Requirement: "Before receiving anything it prints exactly `Started server on UDP/PORT`.",
			Category:    report.Format, Points: 1,
			Hint: `Print f"Started server on UDP/{port}" once the socket is bound.`,
			Run:  udpServerCheckStartLine,
		},
		{
			ID: "log-format", Title: "logs a datagram in the course's format",
			Requirement: "For each datagram it prints one line `[YYYY-MM-DD HH:MM:SS,mmm] client IP sent \"MSG\"` (on stdout or stderr). MSG shown as a bytes object (`b'hello'`) is accepted here: decoding is udp-server/utf8's concern.",
			Category:    report.Format, Points: 2,
			Hint: `Format the line as f'[{asctime}] client {ip} sent "{message}"': the IP alone (addr[0], not the tuple), no padding, the message in double quotes; logging's %(asctime)s gives the time.`,
			Run:  udpServerCheckLogFormat,
		},
		{
			ID: "timestamp", Title: "stamps each datagram with its time of receipt",
			Requirement: "The time in each log line is the local time the datagram arrived, to the millisecond: never before it was sent, and different for two datagrams sent apart. A server that ends after the first datagram is judged on that one (many-clients judges the ending); the line's layout is log-format's concern.",
			Category:    report.Format, Points: 1,
			Hint: "Take the time when each datagram arrives (datetime.now() inside the loop, or logging's %(asctime)s), not once at start-up.",
			Run:  udpServerCheckTimestamp,
		},
		{
			ID: "verbatim", Title: "logs the message verbatim, spaces and % signs included",
			Requirement: "The message is printed as received: `" + probeVerbatim + "` stays as it is (or as the bytes object of it, whose decoding udp-server/utf8 judges).",
			Category:    report.Format, Points: 1,
			Hint: "Never put the message inside a format string (strftime, % or logging's first argument): pass it as a value, e.g. logging.info('client %s sent \"%s\"', ip, msg).",
			Run:  udpServerCheckVerbatim,
		},
		{
			ID: "utf8", Title: "decodes a non-ASCII message as UTF-8",
			Requirement: "A datagram holding the UTF-8 bytes of `các bạn` (7 characters, 10 bytes) is logged as `các bạn`.",
			Category:    report.Encoding, Points: 1,
			Hint: "Decode the bytes with data.decode('utf-8') before printing; printing the bytes object shows b'...'.",
			Run:  udpServerCheckUTF8,
		},
		{
			ID: "many-clients", Title: "serves several datagrams from several clients",
			Requirement: "Five datagrams from three client sockets are all logged, in order, and the server is still running.",
			Category:    report.Lifecycle, Points: 2,
			Hint: "Receive in a `while True:` loop; never close the socket or exit after a datagram.",
			Run:  udpServerCheckManyClients,
		},
		{
			ID: "invalid-utf8", Title: "survives a datagram that is not UTF-8",
			Requirement: "After a datagram of bytes that are not valid UTF-8, the server still runs and logs the next datagram. When it does not log a second datagram after a valid one either, many-clients judges that, not this check.",
			Category:    report.Robustness, Points: 1,
			Hint: "Decode with data.decode('utf-8', errors='replace') or catch UnicodeDecodeError: one bad datagram must not stop the server.",
			Run:  udpServerCheckInvalidUTF8,
		},
		checks.Usage(e.Usage, ""),
	}
	return graders.NewExercise(e)
}

func udpServerCheckStartLine(t *graders.T) error {
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
// the timestamp made from the student's line when it has one (see
// courseStamp), so that a diff marks the first character that differs.
func expectedLog(tmpl, ip, msg, got string) string {
	r := strings.NewReplacer("{asctime}", courseStamp(asctimeRe.FindString(got)), "{ip}", ip, "{message}", msg)
	return r.Replace(tmpl)
}

// courseStamp returns the course's shape of a timestamp found in a
// student's line: its date, time and first three digits of the fraction,
// written YYYY-MM-DD HH:MM:SS,mmm ("2026-03-14T10:26:53.069930" gives
// "2026-03-14 10:26:53,069"; no fraction gives ",mmm"). Without one it is
// the placeholder YYYY-MM-DD HH:MM:SS,mmm.
func courseStamp(m string) string {
	if m == "" {
		return "YYYY-MM-DD HH:MM:SS,mmm"
	}
	stamp := m[:10] + " " + m[11:19]
	if len(m) > 20 {
		return stamp + "," + m[20:23]
	}
	return stamp + ",mmm"
}

// stampShape says how a timestamp found in a log line differs from the
// course's YYYY-MM-DD HH:MM:SS,mmm, with advice; "" when it does not.
func stampShape(m string) (problem, hint string) {
	const advice = "logging's %(asctime)s prints the time in the course's shape; with datetime, write the milliseconds yourself: f\"{now:%Y-%m-%d %H:%M:%S},{now.microsecond // 1000:03d}\"."
	switch {
	case m == "":
		return "", ""
	case m[10] != ' ':
		return fmt.Sprintf("the date and the time are separated by %q; the course separates them with a space", m[10:11]), advice
	case len(m) == 19:
		return "the time has no milliseconds; the course writes HH:MM:SS,mmm", advice
	case len(m) > 23:
		frac := m[19:]
		return fmt.Sprintf("the time's fraction %s has %d digits; the course shows milliseconds, 3 digits", frac, len(frac)-1),
			fmt.Sprintf("`%s` has %d digits: %%f gives microseconds. %s", frac, len(frac)-1, advice)
	case m[19] != ',':
		return fmt.Sprintf("the milliseconds follow %q; the course writes a comma: HH:MM:SS,mmm", m[19:20]), advice
	}
	return "", ""
}

// logJudgement is what logOne judges of the line logged for a datagram.
type logJudgement int

const (
	// logStrict judges the whole line against the course's format, the
	// message as text or as a bytes object (log-format).
	logStrict logJudgement = iota
	// logHolds judges only that the message stands in the line unchanged,
	// as text or as a bytes object (verbatim).
	logHolds
	// logDecoded judges only that the message stands in the line decoded
	// as text (utf8).
	logDecoded
)

// logOne sends one datagram and judges the line logged for it as how
// says: each check judges its part, so that one mistake fails one check.
func logOne(t *graders.T, data []byte, msg string, how logJudgement) error {
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
	switch how {
	case logStrict:
		return judgeLog(t, line, msg)
	case logHolds:
		return judgeHolds(line, msg, true)
	default:
		return judgeHolds(line, msg, false)
	}
}

// judgeHolds checks that line holds msg as it was sent, or (reprOK) the
// bytes object of it.
func judgeHolds(line, msg string, reprOK bool) error {
	repr := probe.BytesRepr([]byte(msg))
	if strings.Contains(line, repr) {
		if reprOK {
			return nil
		}
		return graders.Failf("the message is logged as a bytes object (%s), not decoded as UTF-8 text", repr).
			Want(fmt.Sprintf("a line holding %s", msg), line).
			WithHint("Decode the datagram with data.decode('utf-8') before logging it.")
	}
	if strings.Contains(line, msg) {
		return nil
	}
	f := graders.Failf("the log line does not hold the message as it was sent").
		Want(fmt.Sprintf("a line holding %s", msg), line)
	if mb := probe.Mojibake(msg); mb != "" && strings.Contains(line, mb) {
		f.Message = fmt.Sprintf("the message's UTF-8 bytes were decoded with another encoding (Latin-1): %s", mb)
		f.Hint = "Decode with data.decode('utf-8'), the encoding the client used."
	}
	return f
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
	if !p.Running() || outputEnded(t, p) {
		_ = p.WaitOutput(t.Context())
		return "", false, graders.Failf("the program ended after receiving the datagram %q (%s)", msg, p.Exit()).
			Want(expectedLog(t.Text("log_line"), "127.0.0.1", msg, ""), probe.PrintedSince(p, from))
	}
	return "", false, graders.Failf("no line was printed for the datagram %q within %s", msg, t.Timeout(probe.LineTimeout)).
		Want(expectedLog(t.Text("log_line"), "127.0.0.1", msg, ""), probe.PrintedSince(p, from)).
		WithHint("Print one line per datagram as soon as it arrives. If it was printed with print(), it may still sit in a buffer: this grader reads output as a terminal shows it, so check the line is printed inside the receive loop.")
}

// outputEnded reports whether the program's output has ended and, if so,
// waits (up to probe.ExitTimeout) for the program's exit, which is seen a
// moment after its output ends.
func outputEnded(t *graders.T, p *harness.Process) bool {
	if !p.Output().Closed() {
		return false
	}
	ctx, cancel := context.WithTimeout(t.Context(), t.Timeout(probe.ExitTimeout))
	defer cancel()
	_, _ = p.Wait(ctx)
	return true
}

// judgeLog compares a logged line with the course's format. The message
// may be shown as a bytes object: decoding is another check's concern.
func judgeLog(t *graders.T, line, msg string) error {
	tmpl := t.Text("log_line")
	repr := probe.BytesRepr([]byte(msg))
	if logPattern(tmpl, "127.0.0.1", msg).MatchString(line) || logPattern(tmpl, "127.0.0.1", repr).MatchString(line) {
		return nil
	}
	shown := msg
	if strings.Contains(line, repr) {
		shown = repr
	}
	want := expectedLog(tmpl, "127.0.0.1", shown, line)
	f := graders.Failf("the log line is not in the course's format").Want(want, line)
	switch {
	case !strings.Contains(line, shown):
		f.Message = fmt.Sprintf("the log line does not hold the message %q as it was sent", msg)
	case strings.Contains(line, "('127.0.0.1',"):
		f.Message = "the log line shows the sender as a (host, port) tuple; the course logs the IP address alone"
		f.Hint = "addr is a tuple (ip, port): print addr[0]."
	case regexp.MustCompile(`127\.0\.0\.1 {2,}`).MatchString(line):
		f.Message = "the IP address is padded with spaces (e.g. %-15s); the course prints it as it is"
	case !strings.Contains(line, `"`+shown+`"`):
		f.Message = "the message is not between double quotes"
	case asctimeRe.FindString(line) == "":
		f.Message = "the log line has no timestamp in the form [YYYY-MM-DD HH:MM:SS,mmm]"
	default:
		if problem, hint := stampShape(asctimeRe.FindString(line)); problem != "" {
			f.Message, f.Hint = problem, hint
		}
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

// stampPrecision returns the precision of a timestamp as printed: a
// second, a millisecond or a microsecond.
func stampPrecision(raw string) time.Duration {
	i := strings.IndexAny(raw, ",.")
	switch {
	case i < 0:
		return time.Second
	case len(raw)-i-1 >= 6:
		return time.Microsecond
	default:
		return time.Millisecond
	}
}

// stampSlack absorbs the rounding of a time printed by a program that
// computes its milliseconds from a float.
const stampSlack = time.Millisecond

// judgeStamp judges the time logged for a datagram sent at sent: no
// earlier than that (to the precision it is printed with), no more than
// stampTolerance after.
func judgeStamp(msg, line string, sent time.Time) (time.Time, error) {
	ts, raw, ok := stampOf(line)
	if !ok {
		return ts, graders.Failf("the line logged for %q has no timestamp that can be read", msg).
			Want("[YYYY-MM-DD HH:MM:SS,mmm] at the start of the line", line)
	}
	want := fmt.Sprintf("a time within %s after %s (local time)", stampTolerance, sent.Format(asctimeLayout))
	if ts.Before(sent.Truncate(stampPrecision(raw)).Add(-stampSlack)) {
		return ts, graders.Failf("the datagram %q was sent at %s but logged with the time %s, %s before it was sent: the time is not taken when the datagram arrives",
			msg, sent.Format(asctimeLayout), raw, sent.Sub(ts).Round(time.Millisecond)).Want(want, raw)
	}
	if d := ts.Sub(sent); d > stampTolerance {
		return ts, graders.Failf("the datagram %q was sent at %s but logged with the time %s (%s away)",
			msg, sent.Format(asctimeLayout), raw, d.Round(time.Millisecond)).Want(want, raw)
	}
	return ts, nil
}

func udpServerCheckTimestamp(t *graders.T) error {
	p, port, err := probe.StartServer(t, "udp")
	if err != nil {
		return err
	}
	ready := time.Now()
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
	var logged []*sent
	for i, s := range probes {
		// Space the datagrams so that stamps taken at receipt differ from
		// one taken at start-up and from each other, counting from when the
		// previous line was seen: on a loaded machine the program may take
		// its stamp late, but never after printing it.
		prev := ready
		if i > 0 {
			prev = probes[i-1].seen
		}
		if wait := stampSpacing - time.Since(prev); wait > 0 {
			time.Sleep(wait)
		}
		from := p.Output().Len()
		s.at = time.Now()
		if err := peer.Send(port, []byte(s.msg)); err != nil {
			return err
		}
		line, ok, err := awaitLog(t, p, from, s.msg)
		if !ok && i > 0 && !p.Running() && t.Context().Err() == nil {
			t.Note("the program ended after the first datagram: udp-server/many-clients judges that; this check judges the one time logged")
			break
		}
		if !ok {
			return err
		}
		s.line, s.seen = line, time.Now()
		logged = append(logged, s)
	}
	var stamps []time.Time
	for _, s := range logged {
		ts, err := judgeStamp(s.msg, s.line, s.at)
		if err != nil {
			return err
		}
		stamps = append(stamps, ts)
	}
	if len(stamps) == 2 && !stamps[1].After(stamps[0]) {
		gap := probes[1].at.Sub(probes[0].at).Round(time.Millisecond)
		return graders.Failf("two datagrams sent %s apart were logged with the same time: the time is not taken when each datagram arrives", gap).
			Want(fmt.Sprintf("two different times, about %s apart", gap), probes[0].line+"\n"+probes[1].line)
	}
	return nil
}

func udpServerCheckManyClients(t *graders.T) error {
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

// udpServerCheckInvalidUTF8 sends a datagram that is not UTF-8, then a valid one
// that must be logged. A control run first tells whether the bytes could
// be to blame at all: a server gets a valid datagram, then the same second
// one. When the control fails, the server does not log a second datagram
// at all: many-clients judges that, and this check, which cannot tell
// whether the bytes would have stopped it, is not judged (left out of the
// score, one mistake one deduction).
// Otherwise the bad datagram takes the valid one's place on a fresh server,
// which is the program whose exit and traceback the report shows.
func udpServerCheckInvalidUTF8(t *graders.T) error {
	t.Note("control: does the server log a second datagram after a valid first one? If not, bytes that are not UTF-8 cannot be to blame")
	err := survivesFirst(t, []byte("valid first"), "a valid datagram", true)
	var cf *graders.Failure
	switch {
	case errors.As(err, &cf):
		return graders.NotJudgedf("after a valid datagram the server does not log the next one either (%s): whether bytes that are not UTF-8 stop it cannot be seen; udp-server/many-clients judges the server that logs only one datagram", cf.Message)
	case err != nil:
		return err
	}
	return survivesFirst(t, []byte("caf\xe9 \xff\xfe"), "a datagram that is not valid UTF-8", false)
}

// survivesFirst starts the server, sends first and then "still there?",
// and checks the second is logged and the server still runs. A control
// run's server is stopped once judged.
func survivesFirst(t *graders.T, first []byte, what string, control bool) error {
	p, port, err := probe.StartServer(t, "udp")
	if err != nil {
		return err
	}
	if control {
		defer p.Stop()
	}
	peer, err := probe.NewUDPPeer(t, "127.0.0.1", 0)
	if err != nil {
		return err
	}
	from := p.Output().Len()
	if err := peer.Send(port, first); err != nil {
		return err
	}
	if err := peer.Send(port, []byte("still there?")); err != nil {
		return err
	}
	if _, _, ok := probe.WaitLine(t, p, from, probe.LineTimeout, func(s string) bool { return strings.Contains(s, "still there?") }); ok {
		return probe.StillRunning(t, p, "after "+what)
	}
	if !p.Running() {
		_ = p.WaitOutput(t.Context())
		return graders.Failf("the program ended on %s (%s)", what, p.Exit()).
			Want(`a log line for the next datagram, "still there?"`, probe.PrintedSince(p, from))
	}
	return graders.Failf("after %s, the next datagram was not logged within %s", what, t.Timeout(probe.LineTimeout)).
		Want(`a log line for "still there?"`, probe.PrintedSince(p, from))
}

// udpServerCheckLogFormat judges the log-format check: logs a datagram in
// the course's format.
func udpServerCheckLogFormat(t *graders.T) error {
	return logOne(t, []byte(probeHello), probeHello, logStrict)
}

// udpServerCheckVerbatim judges the verbatim check: logs the message
// verbatim, spaces and % signs included.
func udpServerCheckVerbatim(t *graders.T) error {
	return logOne(t, []byte(probeVerbatim), probeVerbatim, logHolds)
}

// udpServerCheckUTF8 judges the utf8 check: decodes a non-ASCII message as
// UTF-8.
func udpServerCheckUTF8(t *graders.T) error {
	return logOne(t, []byte(probe.UTF8Text), probe.UTF8Text, logDecoded)
}
