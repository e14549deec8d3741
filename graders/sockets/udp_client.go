package sockets

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/observe"
	"github.com/netgrade/netgrade/internal/poll"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/report"
)

// UDPClient is the udp-client exercise: `PROG HOST PORT MESSAGE` sends one
// datagram and exits.
func UDPClient() *graders.Exercise {
	e := &graders.Exercise{
		ID:    "udp-client",
		Title: "UDP client",
		Usage: "udp-client.py HOST PORT MESSAGE",
		Args:  []string{"{host}", "{port}", "{message}"},
		// What arrives is judged only once a datagram arrives at all.
		Needs: "datagram",
	}
	e.Checks = []*graders.Check{
		{
			ID: "datagram", Title: "sends a datagram to HOST:PORT",
			Requirement: "`PROG 127.0.0.1 PORT hello` sends a datagram that arrives on 127.0.0.1:PORT. The checks that judge what arrives need it: without a datagram there is nothing to judge.",
			Category:    report.Start, Points: 2,
			Hint: "Take HOST and PORT from sys.argv[1] and int(sys.argv[2]) and call sendto(data, (host, port)).",
			Run:  udpClientCheckDatagram,
		},
		{
			ID: "sends-message", Title: "sends exactly one datagram holding exactly the message",
			Requirement: "`PROG 127.0.0.1 PORT hello` sends one datagram, and only one, holding `hello` and nothing more (no newline). Its encoding is udp-client/utf8's concern: a datagram in UTF-16 with a byte-order mark is read as such.",
			Category:    report.Protocol, Points: 1,
			Hint: "Call sendto(message.encode('utf-8'), (host, port)) once, with the message exactly as sys.argv[3] gives it.",
			Run:  udpClientCheckSendsMessage,
		},
		{
			ID: "localhost", Title: "accepts a host name",
			Requirement: "`PROG localhost PORT hello` sends a datagram that arrives on this machine (on 127.0.0.1 or ::1); what it holds is the other checks' concern.",
			Category:    report.Start, Points: 1,
			Hint: "Pass HOST to sendto() as it is: socket resolves names such as localhost; do not parse it as an IP address.",
			Run:  udpClientCheckLocalhost,
		},
		{
			ID: "spaces", Title: "sends a message with spaces whole",
			Requirement: "`PROG 127.0.0.1 PORT \"" + spacesProbe + "\"` sends the whole message, not only its first word: a datagram holds it (whitespace around it and its encoding are the other checks' concern).",
			Category:    report.Protocol, Points: 1,
			Hint: "The shell passes a quoted message as one argument, sys.argv[3]: send it whole.",
			Run:  udpClientCheckSpaces,
		},
		{
			ID: "utf8", Title: "encodes a non-ASCII message as UTF-8",
			Requirement: "`PROG 127.0.0.1 PORT \"" + probe.UTF8Text + "\"` sends the message's non-ASCII characters as UTF-8 (`á` is the two bytes c3 a1). Whether the message is whole and exact is the other checks' concern.",
			Category:    report.Encoding, Points: 1,
			Hint: "Encode with message.encode('utf-8') before sending.",
			Run:  udpClientCheckUTF8,
		},
		{
			ID: "exits", Title: "exits with status 0 after sending",
			Requirement: fmt.Sprintf("The client ends by itself, with status 0, within %s (a crash on reading the closed standard input is udp-client/no-stdin's concern).", probe.ExitTimeout),
			Category:    report.Lifecycle, Points: 1, Independent: true,
			Hint: "A UDP client sends its datagram and ends: do not wait for an answer the server never sends.",
			Run:  udpClientCheckExits,
		},
		{
			ID: "no-stdin", Title: "takes its input from the command line, not from the keyboard",
			Requirement: "The client reads nothing from standard input: host, port and message come from its arguments.",
			Category:    report.Start, Points: 1, Independent: true,
			Hint: "The message comes from the command line (sys.argv[3]), not from input().",
			Run:  udpClientCheckNoStdin,
		},
	}
	return graders.NewExercise(e)
}

// spacesProbe is the message of udp-client/spaces: words, a comma and a
// percent sign.
const spacesProbe = "hello big world, 50% off"

// runClient starts the client against a fresh port netgrade listens on, at
// each of hosts, and returns what arrived once the client exited (or was
// stopped: see awaitClient).
func runClient(t *graders.T, host, msg string, hosts ...string) (*harness.Process, []probe.Datagram, int, error) {
	p, got, port, _, err := runClientStuck(t, host, msg, hosts...)
	return p, got, port, err
}

// runClientStuck is runClient that also says, when netgrade stopped the
// client because it waited for a reply, on what it waited.
func runClientStuck(t *graders.T, host, msg string, hosts ...string) (*harness.Process, []probe.Datagram, int, string, error) {
	port, err := t.Port()
	if err != nil {
		return nil, nil, 0, "", err
	}
	var peers []*probe.UDPPeer
	for _, h := range hosts {
		peer, err := probe.NewUDPPeer(t, h, port)
		if err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				return nil, nil, 0, "", fmt.Errorf("%w: %w", graders.ErrPortTaken, err)
			}
			if h == "::1" {
				continue // no IPv6 loopback here: IPv4 alone answers for localhost
			}
			return nil, nil, 0, "", err
		}
		peers = append(peers, peer)
	}
	p, err := t.Start(map[string]string{"host": host, "port": strconv.Itoa(port), "message": msg})
	if err != nil {
		return nil, nil, 0, "", err
	}
	stuck, err := awaitClient(t, p)
	if err != nil {
		return nil, nil, 0, "", err
	}
	_ = p.WaitOutput(t.Context())
	t.Note("the client has ended: netgrade reads every datagram that arrived")
	var got []probe.Datagram
	for _, peer := range peers {
		ds, err := peer.Drain()
		if err != nil {
			return nil, nil, 0, "", fmt.Errorf("reading netgrade's UDP socket: %w", err)
		}
		got = append(got, ds...)
	}
	return p, got, port, stuck, nil
}

// awaitClient waits until the client ends, and stops it when it cannot
// end: when it sleeps in a blocking read of its socket (a reply netgrade
// never sends: its sockets only receive), or when it still runs at
// probe.ExitTimeout. stuck says on what it waited, in the first case.
// A client that waits for a reply with a timeout is in a poll, not in a
// read: it is given until ExitTimeout, as it may end by itself.
func awaitClient(t *graders.T, p *harness.Process) (stuck string, err error) {
	wait := func(d time.Duration) error {
		ctx, cancel := context.WithTimeout(t.Context(), t.Timeout(d))
		defer cancel()
		_, err := poll.Wait(ctx, func(context.Context) poll.Result {
			if !p.Running() {
				return poll.Done()
			}
			if b, ok, _ := observe.BlockedReading(p.Pid()); ok {
				stuck = b.String()
				return poll.Done()
			}
			return poll.Continue("the client runs")
		}, poll.Backoff(clientLookFirst, clientLookCap), poll.WakeOn(p.Done()))
		return err
	}
	err = wait(probe.ExitTimeout)
	// A client still starting on a busy machine (at work, little CPU used)
	// gets the grace a server gets: the wall clock alone does not decide.
	waited := t.Timeout(probe.ExitTimeout)
	for graces := 0; err != nil && stuck == "" && graces < probe.StartGraces && t.Context().Err() == nil && probe.ClientStillStarting(t, p, waited); graces++ {
		err = wait(probe.StartGrace)
		waited += t.Timeout(probe.StartGrace)
	}
	switch {
	case t.Context().Err() != nil:
		return "", t.Context().Err()
	case stuck != "":
		t.Note("the client sleeps in %s, waiting for a datagram that netgrade never sends: netgrade stops it", stuck)
		p.Stop()
	case err != nil:
		t.Note("the client was still running after %s: netgrade stops it", waited)
		p.Stop()
	}
	return stuck, nil
}

// clientLookFirst and clientLookCap bound the looks at a running client:
// a correct one has ended by the first, and a stuck one is seen within
// the cap.
const (
	clientLookFirst = 5 * time.Millisecond
	clientLookCap   = 100 * time.Millisecond
)

// noDatagram is the failure of a run in which no datagram arrived.
func noDatagram(p *harness.Process, port int, msg string) *graders.Failure {
	f := graders.Failf("no datagram arrived on UDP port %d (client %s)", port, p.Exit())
	f.Want(fmt.Sprintf("a datagram: %q", msg), "nothing")
	if p.Exit().Code == 0 && pyenv.LastTraceback(p.Output().Lines()) == nil {
		f.Hint = "The client ended without sending: check that it calls sendto() with (host, port) taken from sys.argv, and that PORT is the second argument."
	}
	return f
}

// looseText reads a datagram as text whatever its encoding, for the checks
// that judge what it says, not how it is encoded: UTF-8 when it is valid
// UTF-8, UTF-16 when it starts with a byte-order mark, Latin-1 otherwise.
func looseText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	if len(b) >= 2 && len(b)%2 == 0 {
		var order binary.ByteOrder
		switch {
		case b[0] == 0xff && b[1] == 0xfe:
			order = binary.LittleEndian
		case b[0] == 0xfe && b[1] == 0xff:
			order = binary.BigEndian
		}
		if order != nil {
			u := make([]uint16, 0, len(b)/2-1)
			for i := 2; i < len(b); i += 2 {
				u = append(u, order.Uint16(b[i:]))
			}
			return string(utf16.Decode(u))
		}
	}
	rs := make([]rune, len(b))
	for i, c := range b {
		rs[i] = rune(c)
	}
	return string(rs)
}

// showDatagrams lists datagrams for a failure message.
func showDatagrams(got []probe.Datagram) string {
	parts := make([]string, len(got))
	for i, d := range got {
		parts[i] = fmt.Sprintf("%q = %s (%d bytes)", graders.Printable(d.Data), probe.HexBytes(d.Data), len(d.Data))
	}
	return strings.Join(parts, ", ")
}

// judgeExactlyMessage checks that exactly one datagram arrived and that
// its text is exactly msg: nothing before or after it.
func judgeExactlyMessage(got []probe.Datagram, msg string) error {
	want := fmt.Sprintf("one datagram: %q = %s (%d bytes)", msg, probe.HexBytes([]byte(msg)), len(msg))
	switch {
	case len(got) == 0:
		return graders.Failf("no datagram arrived").Want(want, "nothing")
	case len(got) > 1:
		return graders.Failf("%d datagrams arrived; the client must send exactly one", len(got)).
			Want(want, showDatagrams(got)).
			WithHint("Send the whole message once, in one sendto() call.")
	}
	text := looseText(got[0].Data)
	if text == msg {
		return nil
	}
	f := graders.Failf("the datagram does not hold exactly the message").Want(want, showDatagrams(got))
	if strings.TrimSpace(text) == msg {
		f.Message = "the datagram holds the message with something around it: whitespace or a newline that is not part of the message"
		f.Hint = "Send sys.argv[3] as it is: no \"\\n\" added (a datagram is not a line)."
	}
	return f
}

// judgeWhole checks that one of the datagrams holds msg whole, once the
// whitespace around it is trimmed.
func judgeWhole(got []probe.Datagram, msg string) error {
	var texts []string
	for _, d := range got {
		text := strings.TrimSpace(looseText(d.Data))
		if text == msg {
			return nil
		}
		texts = append(texts, strconv.Quote(text))
	}
	f := graders.Failf("no datagram holds the whole message %q", msg).Want(strconv.Quote(msg), strings.Join(texts, ", "))
	if first, _, ok := strings.Cut(msg, " "); ok && slices.Contains(texts, strconv.Quote(first)) {
		f.Message = "only the first word of the message arrived"
		f.Hint = "The shell passes a quoted message as one argument, sys.argv[3]: do not split it."
	}
	return f
}

// judgeDatagramsUTF8 checks that one of the datagrams holds msg's
// non-ASCII text as UTF-8 (see judgeSentUTF8).
func judgeDatagramsUTF8(got []probe.Datagram, msg string) error {
	if len(got) == 0 {
		return graders.Failf("no datagram arrived").Want(fmt.Sprintf("%q as UTF-8", msg), "nothing")
	}
	var first error
	for _, d := range got {
		err := judgeSentUTF8(d.Data, msg)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

func udpClientCheckExits(t *graders.T) error {
	p, _, _, stuck, err := runClientStuck(t, "127.0.0.1", "bye", "127.0.0.1")
	if err != nil {
		return err
	}
	ex := p.Exit()
	if tb := pyenv.LastTraceback(p.Output().Lines()); ex.StoppedBy == "" && tb != nil && tb.Exception == "EOFError" {
		t.Note("the client ended by itself, on reading its closed standard input (%s): udp-client/no-stdin judges that", tb.Line)
		return nil
	}
	switch {
	case stuck != "":
		return graders.Failf("the client does not end: after sending, it waits for a reply (it sleeps in %s) that never comes, as a UDP server need not answer; netgrade had to stop it", stuck).
			Want("exit status 0 once the datagram is sent", "waiting for a reply; printed:\n"+probe.PrintedSince(p, 0))
	case ex.StoppedBy != "":
		return graders.Failf("the client was still running %s after it started; netgrade had to stop it", t.Timeout(probe.ExitTimeout)).
			Want("exit status 0 within "+t.Timeout(probe.ExitTimeout).String(), "still running; printed:\n"+probe.PrintedSince(p, 0))
	case ex.Code != 0:
		return graders.Failf("the client %s", ex).Want("exit status 0", ex.String()+"; printed:\n"+probe.PrintedSince(p, 0))
	}
	return nil
}

func udpClientCheckNoStdin(t *graders.T) error {
	p, _, _, err := runClient(t, "127.0.0.1", "hello", "127.0.0.1")
	if err != nil {
		return err
	}
	tb := pyenv.LastTraceback(p.Output().Lines())
	switch {
	case tb == nil:
		return nil
	case tb.IsSyntax():
		return graders.Failf("the program does not compile (%s): it takes its input from nowhere", tb.Line).
			Want("a program that runs and reads its arguments", tb.Line).
			WithHint("Fix the syntax error the traceback names first.")
	case tb.Exception == "EOFError":
		return graders.Failf("the client reads standard input (input()), which is closed when it is graded: %s", tb.Line).
			Want("no read from standard input", tb.Line)
	}
	return nil
}

// udpClientCheckDatagram judges the datagram check: sends a datagram to
// HOST:PORT.
func udpClientCheckDatagram(t *graders.T) error {
	p, got, port, err := runClient(t, "127.0.0.1", "hello", "127.0.0.1")
	if err != nil || len(got) > 0 {
		return err
	}
	return noDatagram(p, port, "hello")
}

// udpClientCheckSendsMessage judges the sends-message check: sends exactly
// one datagram holding exactly the message.
func udpClientCheckSendsMessage(t *graders.T) error {
	_, got, _, err := runClient(t, "127.0.0.1", "hello", "127.0.0.1")
	if err != nil {
		return err
	}
	return judgeExactlyMessage(got, "hello")
}

// udpClientCheckLocalhost judges the localhost check: accepts a host name.
func udpClientCheckLocalhost(t *graders.T) error {
	p, got, port, err := runClient(t, "localhost", "hello", "127.0.0.1", "::1")
	if err != nil || len(got) > 0 {
		return err
	}
	f := noDatagram(p, port, "hello")
	f.Message = "with HOST `localhost`, " + f.Message
	return f
}

// udpClientCheckSpaces judges the spaces check: sends a message with spaces
// whole.
func udpClientCheckSpaces(t *graders.T) error {
	_, got, _, err := runClient(t, "127.0.0.1", spacesProbe, "127.0.0.1")
	if err != nil {
		return err
	}
	return judgeWhole(got, spacesProbe)
}

// udpClientCheckUTF8 judges the utf8 check: encodes a non-ASCII message as
// UTF-8.
func udpClientCheckUTF8(t *graders.T) error {
	_, got, _, err := runClient(t, "127.0.0.1", probe.UTF8Text, "127.0.0.1")
	if err != nil {
		return err
	}
	return judgeDatagramsUTF8(got, probe.UTF8Text)
}
