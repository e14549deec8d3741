package socketserver

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/checks"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/observe"
	"github.com/netgrade/netgrade/internal/report"
)

// The data the tcp-upper checks send.
const (
	upperProbe = "Hello, World 42"
	// upperStripProbe has the whitespace around it that the course's
	// handler strips: Python's bytes.strip() removes spaces, tabs, CR, LF.
	upperStripProbe = " \tstrip me \r\n"
)

// upperClients are the data of the three clients of next-client.
var upperClients = []string{"first", "second one", "third and last"}

// TCPUpper is the tcp-upper exercise, the course's socketserver example:
// `PROG PORT`; for each connection the handler receives, strips, prints
// `{ip} wrote:` and ` {data}`, sends back the data upper-cased, and the
// connection closes.
func TCPUpper() *graders.Exercise {
	e := &graders.Exercise{
		ID:    "tcp-upper",
		Title: "TCP upper-casing server",
		Usage: "tcp-upper.py PORT",
		Args:  []string{"{port}"},
		Needs: checks.StartsID,
	}
	e.Checks = []*graders.Check{
		checks.Starts("tcp", "socketserver.TCPServer((\"\", int(sys.argv[1])), Handler).serve_forever()"),
		{
			ID: "upper", Title: "answers the data upper-cased",
			Requirement: "A client sending `" + upperProbe + "` (no newline) and waiting with its connection open gets back `" + strings.ToUpper(upperProbe) + "` (whitespace around it is tcp-upper/strip's concern). This check alone judges the answer's case and that it comes without the client shutting down its side.",
			Category:    report.Protocol, Points: 3,
			Hint: "In handle(): data = self.request.recv(1024).strip(); self.request.sendall(data.upper()).",
			Run:  upperCheckUpper,
		},
		{
			ID: "strip", Title: "strips the whitespace around the data",
			Requirement: fmt.Sprintf("A client sending %q gets back `STRIP ME` without the spaces, tab and CR LF around it: no whitespace surrounds the reply (its case is tcp-upper/upper's concern).", upperStripProbe),
			Category:    report.Protocol, Points: 1,
			Hint: "Strip what recv() returns: data = self.request.recv(1024).strip().",
			Run:  upperCheckStrip,
		},
		{
			ID: "format", Title: "prints `{ip} wrote:` then the data",
			Requirement: "For a client on 127.0.0.1 sending `" + upperProbe + "`, it prints the line `127.0.0.1 wrote:` and then the line ` " + upperProbe + "` (the course prints the bytes object, ` " + probe.BytesRepr([]byte(upperProbe)) + "`, which is accepted too, as is the line without its leading space).",
			Category:    report.Format, Points: 2,
			Hint: "print(f\"{self.client_address[0]} wrote:\\n {data}\"): the IP alone (client_address[0], not the tuple), then the data on the next line.",
			Run:  upperCheckFormat,
		},
		{
			ID: "utf8", Title: "upper-cases non-ASCII text as UTF-8",
			Requirement: "A client sending the UTF-8 bytes of `" + probe.UTF8Text + "` gets back UTF-8 text that is the same letters, whatever their case (`" + upperASCII(probe.UTF8Text) + "` from bytes.upper(), `" + strings.ToUpper(probe.UTF8Text) + "` from str.upper(); casing is tcp-upper/upper's concern); the printed data shows the text or its bytes object, not another decoding.",
			Category:    report.Encoding, Points: 1,
			Hint: "Either upper-case the bytes (data.upper()) or decode, upper-case and encode again with UTF-8: data.decode('utf-8').upper().encode('utf-8').",
			Run:  upperCheckUTF8,
		},
		{
			ID: "closes", Title: "closes the connection after its reply",
			Requirement: fmt.Sprintf("After the upper-cased reply, the server closes the connection within %s, while the client keeps its side open.", probe.LineTimeout),
			Category:    report.Lifecycle, Points: 1,
			Hint: "One exchange per connection: socketserver closes the connection when handle() returns; with a plain socket, call conn.close() after sendall().",
			Run:  upperCheckCloses,
		},
		{
			ID: "next-client", Title: "serves a second and a third client",
			Requirement: "Three clients, one after the other, each get a reply (whatever it says: tcp-upper/upper judges that), and the server still runs.",
			Category:    report.Lifecycle, Points: 2,
			Hint: "serve_forever() serves client after client; with a plain socket, accept() in a `while True:` loop.",
			Run:  upperCheckNextClient,
		},
		checks.SilentClient("recv() returns b'' when the client has closed: handle() then has nothing to answer; with a plain socket, close that connection and accept() the next.", probe.LineTimeout,
			func(t *graders.T, p *harness.Process, port int) (*probe.TCPConn, error) {
				r, err := upperAsk(t, p, port, nil, "the next client", "still there", probe.LineTimeout, upperLenient)
				return r.conn, err
			}),
		checks.Usage(e.Usage, ""),
	}
	return graders.NewExercise(e)
}

// upperStrip strips what Python's bytes.strip() strips: ASCII whitespace.
func upperStrip(s string) string {
	return strings.Trim(s, " \t\n\r\x0b\x0c")
}

// upperASCII upper-cases ASCII letters only, as Python's bytes.upper().
func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// upperWants returns the replies accepted for data: stripped, then
// upper-cased as bytes (ASCII only) or as text (all of Unicode).
func upperWants(data string) []string {
	s := upperStrip(data)
	wants := []string{upperASCII(s)}
	if u := strings.ToUpper(s); u != wants[0] {
		wants = append(wants, u)
	}
	return wants
}

// upperMode says whether a check tolerates a reply that comes only once
// the client has shut down its sending side.
type upperMode bool

const (
	// upperStrict: the reply must come while the client waits with its
	// connection open (the protocol checks, upper and waits).
	upperStrict upperMode = false
	// upperLenient: a reply that comes only after the client's shutdown
	// is accepted (every other check: one mistake, one deduction).
	upperLenient upperMode = true
)

// upperReply is what a client of an upper-casing server saw.
type upperReply struct {
	conn   *probe.TCPConn
	data   []byte
	sentAt time.Time
	// firstAt is when the first byte of the reply arrived, doneAt when the
	// reply was complete.
	firstAt, doneAt time.Time
	// loadDelay is how long the program waited for a CPU between the
	// sending of the data and the reply (the most any of its threads
	// waited, observe.RunDelays.Grown): at least that much of the reply's
	// time was added by other work on the machine.
	loadDelay time.Duration
}

// upperStartAsk starts the server and asks it, as its first client, to
// upper-case data (see upperAsk).
func upperStartAsk(t *graders.T, data string, timeout time.Duration, mode upperMode) (*harness.Process, *upperReply, error) {
	p, port, err := probe.StartServer(t, "tcp")
	if err != nil {
		return nil, nil, err
	}
	r, err := upperAsk(t, p, port, nil, "the client", data, timeout, mode)
	return p, r, err
}

// upperAsk connects as a new client from the loopback address from (nil:
// 127.0.0.1), sends data, and waits up to timeout for the reply (see
// upperComplete). The lenient mode accepts a reply that comes only once
// the client has shut down its sending side. The reply is never nil; its
// conn is nil when the client could not connect.
func upperAsk(t *graders.T, p *harness.Process, port int, from net.IP, who, data string, timeout time.Duration, mode upperMode) (*upperReply, error) {
	r := &upperReply{}
	c, err := probe.Connect(t, p, from, port, who)
	if err != nil {
		return r, err
	}
	r.conn, r.sentAt = c, time.Now()
	before, berr := observe.ThreadRunDelays(p.Pid())
	if err := probe.SendAs(t, p, c, who, []byte(data)); err != nil {
		return r, err
	}
	wants := upperWants(data)
	r.data = upperWaitReply(c, wants, timeout)
	if after, aerr := observe.ThreadRunDelays(p.Pid()); berr == nil && aerr == nil {
		r.loadDelay = after.Grown(before)
	}
	if len(r.data) == 0 && mode == upperLenient {
		r.data, _ = probe.LateReply(t, c, upperComplete(wants))
	}
	if len(r.data) == 0 {
		return r, probe.NoReply(t, p, c, who, "a reply "+upperQuote(wants), timeout)
	}
	// doneAt is when the piece that completed the reply arrived: a reply
	// may come in several pieces (or a byte at a time).
	r.firstAt, r.doneAt = c.FirstAt(), c.ArrivedAt(len(r.data))
	return r, nil
}

// upperComplete returns the wait condition of a reply to data whose
// accepted replies are wants: the server closed, or the reply is one of
// wants whatever its case and the whitespace around it, or it is longer
// than all of them with whitespace around.
func upperComplete(wants []string) func([]byte, bool) bool {
	longest := 0
	for _, w := range wants {
		longest = max(longest, len(w))
	}
	return func(d []byte, eof bool) bool {
		got := upperStrip(string(d))
		return eof || len(d) > longest+2 || slices.ContainsFunc(wants, func(w string) bool { return strings.EqualFold(w, got) })
	}
}

// upperWaitReply waits up to timeout for a reply to be complete (see
// upperComplete) and returns what came.
func upperWaitReply(c *probe.TCPConn, wants []string, timeout time.Duration) []byte {
	data, _ := c.WaitFor(timeout, upperComplete(wants))
	return data
}

// upperQuote lists the accepted replies for a message.
func upperQuote(wants []string) string {
	q := make([]string, len(wants))
	for i, w := range wants {
		q[i] = fmt.Sprintf("%q", w)
	}
	return strings.Join(q, " or ")
}

// upperShow shows a reply between quotes: text with Go's escapes, other
// bytes as \xNN.
func upperShow(b []byte) string {
	if utf8.Valid(b) {
		return fmt.Sprintf("%q", b)
	}
	return `"` + graders.Printable(b) + `"`
}

// upperJudge judges the reply of tcp-upper/upper and tcp-waiting/waits:
// the data upper-cased, as bytes or as text. Whitespace around the reply
// is tolerated (tcp-upper/strip judges it); the usual mistakes are named:
// not upper-cased, lower-cased, a bytes object's text, another encoding.
func upperJudge(who, data string, reply []byte) error {
	wants := upperWants(data)
	got := upperStrip(string(reply))
	if slices.Contains(wants, got) {
		return nil
	}
	f := graders.Failf("%s got a reply that is not its data upper-cased", who).
		Want(upperQuote(wants), upperShow(reply))
	stripped := upperStrip(data)
	switch {
	case got == stripped:
		f.Message = who + " got its data back unchanged: it is not upper-cased"
		f.Hint = "Send data.upper(), not data."
	case got == strings.ToLower(stripped) || got == upperLowerASCII(stripped):
		f.Message = who + " got its data back lower-cased, not upper-cased"
		f.Hint = "Send data.upper(), not data.lower()."
	case slices.ContainsFunc(wants, func(w string) bool { return strings.EqualFold(w, got) }):
		f.Message = who + " got its data back, but not all of it upper-cased"
		f.Hint = "Send data.upper()."
	case got == probe.BytesRepr([]byte(wants[0])):
		f.Message = who + " got the text of a bytes object (b'...') instead of the bytes"
		f.Hint = "Send the bytes themselves (data.upper()), not str(data.upper())."
	case strings.ContainsRune(got, utf8.RuneError) || !utf8.Valid(reply):
		f.Message = who + " got a reply that is not the UTF-8 of the upper-cased text"
		f.Hint = "Upper-case the bytes (data.upper()) or decode and encode with UTF-8 both ways."
	}
	return f
}

// upperLowerASCII lower-cases ASCII letters only, as Python's bytes.lower().
func upperLowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}

// upperJudgeStrip judges the reply of tcp-upper/strip: no whitespace
// around it. Its case, and what it says, are other checks' concern.
func upperJudgeStrip(who, data string, reply []byte) error {
	if got := string(reply); upperStrip(got) == got {
		return nil
	}
	return graders.Failf("%s got a reply with the whitespace around the data still in it: the data is not stripped", who).
		Want(upperQuote(upperWants(data))+" (no whitespace around it)", upperShow(reply)).
		WithHint("Strip the received data before upper-casing it: self.request.recv(1024).strip().")
}

// upperJudgeUTF8 judges the reply of the encoding checks: UTF-8 text that
// holds the same letters as the data, whatever their case (upper judges
// the case) and the whitespace around them (strip judges it), or the text
// of its bytes object (upper judges sending the bytes themselves).
func upperJudgeUTF8(who, data string, reply []byte) error {
	got := upperStrip(string(reply))
	stripped := upperStrip(data)
	if utf8.Valid(reply) && strings.EqualFold(got, stripped) {
		return nil
	}
	if strings.EqualFold(got, probe.BytesRepr([]byte(stripped))) {
		// The text of the bytes object, whose escapes are the right UTF-8:
		// sending the bytes themselves is upper's concern.
		return nil
	}
	f := graders.Failf("%s got a reply that is not the UTF-8 of its text", who).
		Want(upperQuote(upperWants(data))+" (in any case), in UTF-8", upperShow(reply)).
		WithHint("Upper-case the bytes (data.upper()) or decode, upper-case and encode again with UTF-8: data.decode('utf-8').upper().encode('utf-8').")
	switch {
	case !utf8.Valid(reply):
		f.Message = who + " got a reply whose bytes are not valid UTF-8: the text was encoded with another encoding"
	case strings.ContainsRune(got, utf8.RuneError):
		f.Message = who + " got a reply in which the non-ASCII letters were replaced (U+FFFD): the data was decoded with another encoding"
	case strings.EqualFold(got, probe.Mojibake(stripped)):
		f.Message = who + " got its UTF-8 bytes read as Latin-1 and encoded again: the data was decoded with the wrong encoding"
		f.Hint = "Decode with .decode('utf-8'), not 'latin-1', or upper-case the bytes themselves (data.upper())."
	}
	return f
}

// upperDataForms are the accepted forms of the data line: the text or the
// bytes object, with or without the course's leading space.
func upperDataForms(data string) []string {
	repr := probe.BytesRepr([]byte(data))
	return []string{" " + data, data, " " + repr, repr}
}

// upperPrevLine returns the line printed just before index i on the same
// stream, or ok false.
func upperPrevLine(p *harness.Process, i int) (harness.Line, bool) {
	lines := p.Output().Lines()
	if i >= len(lines) {
		return harness.Line{}, false
	}
	for j := i - 1; j >= 0; j-- {
		if lines[j].Stream == lines[i].Stream && !lines[j].Mark {
			return lines[j], true
		}
	}
	return harness.Line{}, false
}

func upperCheckFormat(t *graders.T) error {
	p, c, from, err := probe.StartAndSend(t, []byte(upperProbe))
	if err != nil {
		return err
	}
	wroteWant := "127.0.0.1 wrote:"
	want := wroteWant + "\n " + upperProbe
	forms := upperDataForms(upperProbe)
	l, i, ok := upperWaitPrinted(t, p, c, from, probe.LineTimeout, func(s string) bool { return slices.Contains(forms, s) })
	if !ok {
		got := probe.PrintedSince(p, from)
		switch {
		case !p.Running():
			_ = p.WaitOutput(t.Context())
			return graders.Failf("the program ended (%s) without printing the data", p.Exit()).Want(want, got)
		case strings.Contains(got, upperProbe):
			return graders.Failf("the data is printed, but not on a line of its own after `{ip} wrote:`").Want(want, got)
		}
		return graders.Failf("the data %q was not printed within %s", upperProbe, t.Timeout(probe.LineTimeout)).Want(want, got)
	}
	prev, ok := upperPrevLine(p, i)
	if !ok {
		return graders.Failf("the data line is not preceded by `%s`", wroteWant).Want(want, l.Text)
	}
	if prev.Text == wroteWant {
		return nil
	}
	f := graders.Failf("the line before the data is not `%s`", wroteWant).Want(want, prev.Text+"\n"+l.Text)
	switch {
	case strings.Contains(prev.Text, "('127.0.0.1',"):
		f.Message = "the client is shown as a (host, port) tuple; the course prints the IP address alone"
		f.Hint = "self.client_address is a tuple (ip, port): print self.client_address[0]."
	case strings.HasSuffix(prev.Text, "wrote:"):
		f.Message = "the client's IP address is not printed as the course prints it, `127.0.0.1 wrote:`"
	}
	return f
}

// upperWaitPrinted waits up to timeout for a line printed from index from
// on that satisfies match; when none comes and the client c still has its
// sending side, it shuts that side down and waits probe.LineTimeout more:
// a server that reads until the end of the stream prints only then, and
// the checks of what it prints tolerate that (upper and waits judge it).
func upperWaitPrinted(t *graders.T, p *harness.Process, c *probe.TCPConn, from int, timeout time.Duration, match func(string) bool) (harness.Line, int, bool) {
	l, i, ok := probe.WaitLine(t, p, from, timeout, match)
	if ok || !p.Running() || c == nil || c.WriteClosed() || c.EOF() || c.CloseWrite() != nil {
		return l, i, ok
	}
	l, i, ok = probe.WaitLine(t, p, from, probe.LineTimeout, match)
	if ok {
		t.Note("the line was printed only once the client had shut down its sending side; this check tolerates that")
	}
	return l, i, ok
}

// upperRunUTF8 sends non-ASCII data: the reply must be its UTF-8 text,
// whatever the case, and the data line, if printed after `wrote:`, must
// show the text or its bytes object. delayed judges instead the delay the
// waiting line shows (tcp-waiting).
func upperRunUTF8(t *graders.T, data string, timeout time.Duration, delayed bool) error {
	p, port, err := probe.StartServer(t, "tcp")
	if err != nil {
		return err
	}
	from := p.Output().Len()
	r, err := upperAsk(t, p, port, nil, "the client", data, timeout, upperLenient)
	if err != nil {
		return err
	}
	if err := upperJudgeUTF8("the client", data, r.data); err != nil {
		return err
	}
	if delayed {
		l, _, ok := probe.WaitLine(t, p, from, probe.LineTimeout, func(s string) bool { return waitingDelayRe.MatchString(s) })
		if !ok {
			return nil // the format check judges a missing waiting line
		}
		return waitingJudgeShownDelay(data, l.Text)
	}
	forms := upperDataForms(data)
	if _, _, ok := probe.WaitLine(t, p, from, probe.LineTimeout, func(s string) bool { return slices.Contains(forms, s) }); ok {
		return nil
	}
	return upperJudgeDataLine(data, p.Output().Since(from))
}

// upperJudgeDataLine judges the data line of non-ASCII data where the
// program prints it as the course does, after a `wrote:` line (the format
// check judges the rest): it must show the text or its bytes object.
func upperJudgeDataLine(data string, lines []harness.Line) error {
	forms := upperDataForms(data)
	for i, l := range lines {
		if l.Mark || !strings.HasSuffix(l.Text, "wrote:") {
			continue
		}
		for _, next := range lines[i+1:] {
			if next.Stream != l.Stream || next.Mark {
				continue
			}
			if slices.Contains(forms, next.Text) {
				return nil
			}
			return graders.Failf("the data is not printed as the text %q nor as its bytes object", data).
				Want(forms[0]+" (or "+forms[2]+")", next.Text).
				WithHint("Print the data decoded with UTF-8 (data.decode('utf-8')), or the bytes object itself.")
		}
	}
	return nil
}

// upperRunCloses checks that the server closes the connection after its
// reply while the client keeps its side open.
func upperRunCloses(t *graders.T, data string, timeout time.Duration) error {
	_, r, err := upperStartAsk(t, data, timeout, upperLenient)
	if err != nil {
		return err
	}
	if _, ok := r.conn.WaitEOF(probe.LineTimeout); ok {
		return nil
	}
	return graders.Failf("the server kept the connection open %s after its reply", t.Timeout(probe.LineTimeout)).
		Want("the server closes the connection after its reply", "the connection still open").
		WithHint("One exchange per connection: when handle() returns, socketserver closes the connection; with a plain socket, call conn.close() after sendall().")
}

// upperRunNextClient runs clients one after the other; each must get a
// reply, whatever it says and even once it has shut down its sending side
// (the protocol checks judge both). wait gives the time each may take to
// answer.
func upperRunNextClient(t *graders.T, datas []string, wait func(string) time.Duration) error {
	p, port, err := probe.StartServer(t, "tcp")
	if err != nil {
		return err
	}
	for i, data := range datas {
		who := probe.Ordinals[i]
		r, err := upperAsk(t, p, port, nil, who, data, wait(data), upperLenient)
		if err != nil {
			var f *graders.Failure
			if errors.As(err, &f) && i > 0 && f.Hint == "" {
				f.Hint = "After a client, the server must serve the next one: serve_forever(), or accept() in a `while True:` loop."
			}
			return err
		}
		r.conn.Close()
	}
	return probe.StillRunning(t, p, "after three clients")
}

// upperCheckUpper judges the upper check: answers the data upper-cased.
func upperCheckUpper(t *graders.T) error {
	_, r, err := upperStartAsk(t, upperProbe, probe.LineTimeout, upperStrict)
	if err != nil {
		return err
	}
	return upperJudge("the client", upperProbe, r.data)
}

// upperCheckStrip judges the strip check: strips the whitespace around the
// data.
func upperCheckStrip(t *graders.T) error {
	_, r, err := upperStartAsk(t, upperStripProbe, probe.LineTimeout, upperLenient)
	if err != nil {
		return err
	}
	return upperJudgeStrip("the client", upperStripProbe, r.data)
}

// upperCheckUTF8 judges the utf8 check: upper-cases non-ASCII text as UTF-8.
func upperCheckUTF8(t *graders.T) error {
	return upperRunUTF8(t, probe.UTF8Text, probe.LineTimeout, false)
}

// upperCheckCloses judges the closes check: closes the connection after its
// reply.
func upperCheckCloses(t *graders.T) error {
	return upperRunCloses(t, "close me", probe.LineTimeout)
}

// upperCheckNextClient judges the next-client check: serves a second and a
// third client.
func upperCheckNextClient(t *graders.T) error {
	return upperRunNextClient(t, upperClients, func(string) time.Duration { return probe.LineTimeout })
}
