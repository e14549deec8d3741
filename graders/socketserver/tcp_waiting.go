package socketserver

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/checks"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/report"
)

// The data the tcp-waiting checks send. The server sleeps one second per
// byte (or character) of it, so every probe is one or two characters. Their
// delays add up to 12 to 13 seconds over the checks; with checks running
// four at a time, the exercise's floor is the longest one check waits.
const (
	// waitingProbe (2 s) shows the delay follows the data's length.
	waitingProbe = "ab"
	// waitingFormatProbe (1 s) is what the format check sends.
	waitingFormatProbe = "a"
	// waitingUTF8Probe is one character of two UTF-8 bytes: a delay of 1
	// (characters) or 2 (bytes) seconds.
	waitingUTF8Probe = "é"
	// waitingHeldData is what client A sends in the sequential check. Its
	// 2 seconds are the window in which client B, connected and sent
	// meanwhile, must get no answer: a sequential server answers B only
	// after A's answer is complete and B's own second, a concurrent one
	// answers B after its 1 second, a full second before A. The verdict is
	// the order of the two answers, not a time measured against a bound.
	waitingHeldData = "ab"
	// waitingLateData is what client B sends (1 s).
	waitingLateData = "c"
	// waitingEarly is how much sooner than len(data) seconds after the
	// data was sent a reply may arrive and still count as having waited:
	// the clocks of one machine, read by two processes.
	waitingEarly = 50 * time.Millisecond
	// waitingLoadMargin is how much shorter than len(data) seconds a wait
	// may look once the time the program spent waiting for a CPU is
	// subtracted. That time is an over-estimate: it is sampled after the
	// reply arrived and also holds the handler's waits after its sendall
	// (closing, returning to the accept loop), so a correct two-second
	// wait on a loaded machine may look 50 ms short. The mistakes this
	// guard catches (sleep(1) for a two-character message, no sleep at
	// all) are a whole second short or more.
	waitingLoadMargin = 500 * time.Millisecond
)

// waitingClients are the data of the three clients of next-client.
var waitingClients = []string{"a", "b", "c"}

// waitingSecondClient is the loopback address client B connects from in
// the sequential check, so that what the server prints tells A from B.
var waitingSecondClient = net.IPv4(127, 0, 0, 2)

// waitingDelayRe reads the delay from a waiting line.
var waitingDelayRe = regexp.MustCompile(`waiting for (\d+(?:\.\d+)?) seconds?`)

// TCPWaiting is the tcp-waiting exercise: like tcp-upper, but the handler
// waits len(data) seconds, printing `{ip} waiting for {delay} seconds`
// before and `{ip} answered` after; clients are served one after the
// other (socketserver.TCPServer is sequential).
func TCPWaiting() *graders.Exercise {
	e := &graders.Exercise{
		ID:    "tcp-waiting",
		Title: "TCP waiting server (sequential)",
		Usage: "tcp-waiting.py PORT",
		Args:  []string{"{port}"},
		Needs: checks.StartsID,
		// The longest mandated wait of one check (sequential: A's 2 s, then
		// B's 1 s; next-client: three 1 s waits); checks run in parallel.
		Floor: 3 * time.Second,
	}
	e.Checks = []*graders.Check{
		checks.Starts("tcp", "socketserver.TCPServer((\"\", int(sys.argv[1])), Handler).serve_forever()"),
		{
			ID: "waits", Title: "waits len(data) seconds, then answers the data upper-cased",
			Requirement: fmt.Sprintf("A client sending `%s` and waiting with its connection open gets back `%s`, no sooner than %d seconds after sending and within %s more (whitespace around the reply is tolerated). This check alone judges the answer's case and its delay.", waitingProbe, strings.ToUpper(waitingProbe), len(waitingProbe), probe.LineTimeout),
			Category:    report.Protocol, Points: 3,
			Hint: "In handle(): data = self.request.recv(1024).strip(); delay = len(data); time.sleep(delay); self.request.sendall(data.upper()).",
			Run:  waitingCheckWaits,
		},
		{
			ID: "format", Title: "prints `{ip} waiting for {delay} seconds`, then `{ip} answered`",
			Requirement: fmt.Sprintf("For a client on 127.0.0.1 sending `%s`, it prints `127.0.0.1 waiting for 1 seconds` and then `127.0.0.1 answered` (lines printed only once the client has shut down its side are accepted).", waitingFormatProbe),
			Category:    report.Format, Points: 2,
			Hint: "print(f\"{self.client_address[0]} waiting for {delay} seconds\") before time.sleep(delay), print(f\"{self.client_address[0]} answered\") after.",
			Run:  waitingCheckFormat,
		},
		{
			ID: "utf8", Title: "upper-cases non-ASCII text as UTF-8, counting its bytes or characters",
			Requirement: fmt.Sprintf("A client sending the UTF-8 bytes of `%s` (1 character, 2 bytes) gets back UTF-8 text, `%s` or `%s` (casing is waits' concern), and the waiting line, if printed, counts 1 (characters) or 2 (bytes) seconds. How long it really waits is waits' concern.", waitingUTF8Probe, waitingUTF8Probe, strings.ToUpper(waitingUTF8Probe)),
			Category:    report.Encoding, Points: 1,
			Hint: "Upper-case the bytes (data.upper()) or decode, upper-case and encode again with UTF-8; len() of the bytes or of the decoded text are both accepted as the delay.",
			Run:  waitingCheckUTF8,
		},
		{
			ID: "sequential", Title: "serves clients one after the other",
			Requirement: fmt.Sprintf("Client A sends `%s` (a %d s wait); client B connects meanwhile and sends `%s`. B's answer, whatever it says, comes only after A's answer is complete, and it does come, unless the server serves no next client at all, even one that connects after A is done (next-client judges that).", waitingHeldData, len(waitingHeldData), waitingLateData),
			Category:    report.Concurrency, Points: 3,
			// A's and B's waits, each with a late reply, and the control
			// run of two clients on a fresh server when B is not answered.
			Timeout: 2*probe.ReadyTimeout + waitingTimeout(waitingHeldData) + 3*(waitingTimeout(waitingLateData)+probe.LineTimeout) + probe.LineTimeout,
			Hint:    "The course's waiting server is sequential: socketserver.TCPServer handles one client at a time (not ThreadingTCPServer or ForkingTCPServer, which are the next exercises).",
			Run:     waitingCheckSequential,
		},
		{
			ID: "closes", Title: "closes the connection after its reply",
			Requirement: fmt.Sprintf("After the upper-cased reply, the server closes the connection within %s, while the client keeps its side open.", probe.LineTimeout),
			Category:    report.Lifecycle, Points: 1,
			Hint: "One exchange per connection: socketserver closes the connection when handle() returns; with a plain socket, call conn.close() after sendall().",
			Run:  waitingCheckCloses,
		},
		{
			ID: "next-client", Title: "serves a second and a third client",
			Requirement: "Three clients, one after the other, each get a reply (whatever it says: waits judges that), and the server still runs.",
			Category:    report.Lifecycle, Points: 2,
			Hint: "serve_forever() serves client after client; with a plain socket, accept() in a `while True:` loop.",
			Run:  waitingCheckNextClient,
		},
		checks.SilentClient("recv() returns b'' when the client has closed: the delay is then 0 and there is nothing to answer; with a plain socket, close that connection and accept() the next.", waitingTimeout("y"),
			func(t *graders.T, p *harness.Process, port int) (*probe.TCPConn, error) {
				r, err := upperAsk(t, p, port, nil, "the next client", "y", waitingTimeout("y"), upperLenient)
				return r.conn, err
			}),
		checks.Usage(e.Usage, ""),
	}
	return graders.NewExercise(e)
}

// waitingDelays returns the delays accepted for data: its length in
// characters and in bytes, once stripped.
func waitingDelays(data string) (chars, bytes int) {
	s := upperStrip(data)
	return utf8.RuneCountInString(s), len(s)
}

// waitingTimeout is how long a client waits for its answer: the longest
// accepted delay plus probe.LineTimeout.
func waitingTimeout(data string) time.Duration {
	_, b := waitingDelays(data)
	return time.Duration(b)*time.Second + probe.LineTimeout
}

// waitingJudgeDelay checks that the reply came no sooner than the shorter
// accepted delay after the data was sent.
func waitingJudgeDelay(data string, r *upperReply) error {
	chars, bytes := waitingDelays(data)
	// The time of the piece that completed the answer: a "please wait"
	// line before it is not the answer.
	took := r.doneAt.Sub(r.sentAt)
	// What the machine's other work added (the program waiting for a
	// CPU) is not the program's wait: load never makes a short wait look
	// long enough.
	waited := took - min(r.loadDelay, took)
	long := took >= time.Duration(chars)*time.Second-waitingEarly
	if long && waited >= time.Duration(chars)*time.Second-waitingLoadMargin {
		return nil
	}
	if long {
		return graders.Failf("the server answered %s after the data was sent, but %s of that it spent waiting for a CPU on a busy machine: its own wait, %s, is too short; it must wait len(data) = %d seconds first",
			took.Round(10*time.Millisecond), r.loadDelay.Round(10*time.Millisecond), waited.Round(10*time.Millisecond), chars).
			Want(fmt.Sprintf("a wait of %d seconds (len(data))", chars), fmt.Sprintf("a wait of %s", waited.Round(10*time.Millisecond))).
			WithHint("The delay is the length of the stripped data: delay = len(data); time.sleep(delay) before sendall().")
	}
	want := fmt.Sprintf("an answer after %d seconds (len(data))", chars)
	if bytes != chars {
		want = fmt.Sprintf("an answer after %d or %d seconds (len(data) in characters or bytes)", chars, bytes)
	}
	return graders.Failf("the server answered %s after the data was sent, too soon: it must wait len(data) = %d seconds first", took.Round(10*time.Millisecond), chars).
		Want(want, fmt.Sprintf("an answer after %s", took.Round(10*time.Millisecond))).
		WithHint("The delay is the length of the stripped data: delay = len(data); time.sleep(delay) before sendall().")
}

// waitingJudgeShownDelay judges the delay a waiting line shows for
// non-ASCII data: its length in characters or in bytes.
func waitingJudgeShownDelay(data, line string) error {
	m := waitingDelayRe.FindStringSubmatch(line)
	if m == nil {
		return nil // the format check judges a missing waiting line
	}
	chars, bytes := waitingDelays(data)
	if shown := m[1]; shown == strconv.Itoa(chars) || shown == strconv.Itoa(bytes) {
		return nil
	}
	return graders.Failf("for %q (%d character, %d bytes) the server says it waits %s seconds", data, chars, bytes, m[1]).
		Want(fmt.Sprintf("waiting for %d seconds (characters) or %d seconds (bytes)", chars, bytes), line).
		WithHint("The delay is len() of the stripped data, in bytes (len(data)) or characters (len(data.decode('utf-8'))).")
}

func waitingCheckFormat(t *graders.T) error {
	p, c, from, err := probe.StartAndSend(t, []byte(waitingFormatProbe))
	if err != nil {
		return err
	}
	chars, _ := waitingDelays(waitingFormatProbe)
	waitWant := fmt.Sprintf("127.0.0.1 waiting for %d seconds", chars)
	answerWant := "127.0.0.1 answered"
	want := waitWant + "\n" + answerWant
	_, ai, ok := upperWaitPrinted(t, p, c, from, waitingTimeout(waitingFormatProbe), func(s string) bool { return s == answerWant })
	if !ok {
		got := probe.PrintedSince(p, from)
		if !p.Running() {
			_ = p.WaitOutput(t.Context())
			return graders.Failf("the program ended (%s) before printing `%s`", p.Exit(), answerWant).Want(want, got)
		}
		return waitingFormatFailure(p, from, want, waitWant, answerWant)
	}
	for _, l := range p.Output().Since(from)[:ai-from] {
		if l.Text == waitWant {
			return nil
		}
	}
	return waitingFormatFailure(p, from, want, waitWant, answerWant)
}

// waitingFormatFailure says which of the two lines is missing or off.
func waitingFormatFailure(p *harness.Process, from int, want, waitWant, answerWant string) error {
	got := probe.PrintedSince(p, from)
	f := graders.Failf("the server does not print `%s` and then `%s`", waitWant, answerWant).Want(want, got)
	hasWait, hasAnswer := false, false
	for _, l := range p.Output().Since(from) {
		hasWait = hasWait || l.Text == waitWant
		hasAnswer = hasAnswer || l.Text == answerWant
	}
	switch {
	case strings.Contains(got, "('127.0.0.1',"):
		f.Message = "the client is shown as a (host, port) tuple; the course prints the IP address alone"
		f.Hint = "self.client_address is a tuple (ip, port): print self.client_address[0]."
	case hasWait && hasAnswer:
		f.Message = fmt.Sprintf("`%s` is printed before `%s`", answerWant, waitWant)
		f.Hint = "Print the waiting line before time.sleep(delay) and the answered line after it."
	case !hasWait:
		f.Message = fmt.Sprintf("the line `%s` is not printed as the course fixes it", waitWant)
	default:
		f.Message = fmt.Sprintf("the line `%s` is not printed as the course fixes it", answerWant)
	}
	return f
}

func waitingCheckSequential(t *graders.T) error {
	p, port, err := probe.StartServer(t, "tcp")
	if err != nil {
		return err
	}
	a, err := probe.Connect(t, p, nil, port, "client A")
	if err != nil {
		return err
	}
	sentA := time.Now()
	if err := probe.SendAs(t, p, a, "client A", []byte(waitingHeldData)); err != nil {
		return err
	}
	t.Note("client A waits %d s for its answer; client B connects meanwhile from %s and sends its data", len(waitingHeldData), waitingSecondClient)
	b, err := probe.Connect(t, p, waitingSecondClient, port, "client B")
	if err != nil {
		return err
	}
	sentB := time.Now()
	if err := probe.SendAs(t, p, b, "client B", []byte(waitingLateData)); err != nil {
		return err
	}
	wantsA := upperWants(waitingHeldData)
	aData := upperWaitReply(a, wantsA, waitingTimeout(waitingHeldData))
	if len(aData) == 0 {
		aData, _ = probe.LateReply(t, a, upperComplete(wantsA))
	}
	if len(aData) == 0 {
		return probe.NoReply(t, p, a, "client A", "a reply "+upperQuote(wantsA), waitingTimeout(waitingHeldData))
	}
	aDone := a.ArrivedAt(len(aData))
	if bAt := b.FirstAt(); !bAt.IsZero() && bAt.Before(aDone) {
		round := func(d time.Duration) time.Duration { return d.Round(10 * time.Millisecond) }
		return graders.Failf("client B was answered %s before client A's answer was complete: the server served B while A was still waiting", round(aDone.Sub(bAt))).
			Want("B's answer only after A's answer is complete (one client at a time)",
				fmt.Sprintf("B answered %s after sending %q, while A, which had sent %q %s earlier, got its answer only %s after sending",
					round(bAt.Sub(sentB)), waitingLateData, waitingHeldData, round(sentB.Sub(sentA)), round(aDone.Sub(sentA))))
	}
	// A has its answer: it closes, as the course's client does.
	a.Close()
	wantsB := upperWants(waitingLateData)
	bData := upperWaitReply(b, wantsB, waitingTimeout(waitingLateData))
	if len(bData) == 0 {
		bData, _ = probe.LateReply(t, b, upperComplete(wantsB))
	}
	if len(bData) > 0 {
		return nil
	}
	err = probe.NoReply(t, p, b, "client B", "a reply "+upperQuote(wantsB)+" after A's", waitingTimeout(waitingLateData))
	var f *graders.Failure
	if !errors.As(err, &f) {
		return err
	}
	f.Message = "after client A was answered, " + f.Message
	if f.Hint == "" {
		f.Hint = "A client that connected while another was served must be served next: serve_forever(), or accept() in a `while True:` loop."
	}
	// Control: is B left unanswered because it connected while A was
	// served, or would no client after A be served? The latter is
	// next-client's concern.
	t.Note("control: does the server answer a second client that connects after the first is done? If not, next-client judges that")
	if cerr := upperRunNextClient(t, waitingClients[:2], waitingTimeout); cerr != nil {
		var cf *graders.Failure
		if !errors.As(cerr, &cf) {
			return cerr
		}
		return graders.NotJudgedf("a second client that connects after the first is done is not served either (%s): the server serves no next client at all, and whether it serves a client that connected while another was served cannot be seen; tcp-waiting/next-client judges the server that serves no next client", cf.Message)
	}
	return f
}

// waitingCheckWaits judges the waits check: waits len(data) seconds, then
// answers the data upper-cased.
func waitingCheckWaits(t *graders.T) error {
	_, r, err := upperStartAsk(t, waitingProbe, waitingTimeout(waitingProbe), upperStrict)
	if err != nil {
		return err
	}
	if err := upperJudge("the client", waitingProbe, r.data); err != nil {
		return err
	}
	return waitingJudgeDelay(waitingProbe, r)
}

// waitingCheckUTF8 judges the utf8 check: upper-cases non-ASCII text as
// UTF-8, counting its bytes or characters.
func waitingCheckUTF8(t *graders.T) error {
	return upperRunUTF8(t, waitingUTF8Probe, waitingTimeout(waitingUTF8Probe), true)
}

// waitingCheckCloses judges the closes check: closes the connection after
// its reply.
func waitingCheckCloses(t *graders.T) error {
	return upperRunCloses(t, "z", waitingTimeout("z"))
}

// waitingCheckNextClient judges the next-client check: serves a second and a
// third client.
func waitingCheckNextClient(t *graders.T) error {
	return upperRunNextClient(t, waitingClients, waitingTimeout)
}
