package sockets

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/netgrade/netgrade/internal/harness"
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
	}
	e.Checks = []*graders.Check{
		{
			ID: "udp-client/sends-message", Title: "sends exactly one datagram holding the message",
			Requirement: "`PROG 127.0.0.1 PORT hello` sends one datagram whose bytes are `hello` to 127.0.0.1:PORT.",
			Category:    report.Protocol, Points: 3,
			Hint: "Take HOST, PORT and MESSAGE from sys.argv[1], [2], [3] and call sendto(message.encode('utf-8'), (host, port)) once.",
			Run: func(ctx context.Context, t *graders.T) error {
				return clientSends(t, "127.0.0.1", "hello", "127.0.0.1")
			},
		},
		{
			ID: "udp-client/localhost", Title: "accepts a host name",
			Requirement: "`PROG localhost PORT hello` reaches the server on this machine.",
			Category:    report.Start, Points: 1, Needs: []string{"udp-client/sends-message"},
			Hint: "Pass HOST to sendto() as it is: socket resolves names such as localhost; do not parse it as an IP address.",
			Run: func(ctx context.Context, t *graders.T) error {
				return clientSends(t, "localhost", "hello", "127.0.0.1", "::1")
			},
		},
		{
			ID: "udp-client/spaces", Title: "sends a message with spaces whole",
			Requirement: "`PROG 127.0.0.1 PORT \"hello big world\"` sends `hello big world` in one datagram.",
			Category:    report.Protocol, Points: 1, Needs: []string{"udp-client/sends-message"},
			Hint: "The shell passes a quoted message as one argument, sys.argv[3]: send it whole.",
			Run: func(ctx context.Context, t *graders.T) error {
				return clientSends(t, "127.0.0.1", "hello big world, 50% off", "127.0.0.1")
			},
		},
		{
			ID: "udp-client/utf8", Title: "encodes a non-ASCII message as UTF-8",
			Requirement: "`PROG 127.0.0.1 PORT \"các bạn\"` sends the 10 UTF-8 bytes of the 7 characters.",
			Category:    report.Encoding, Points: 1, Needs: []string{"udp-client/sends-message"},
			Hint: "Encode with message.encode('utf-8') before sending.",
			Run: func(ctx context.Context, t *graders.T) error {
				return clientSends(t, "127.0.0.1", probe.UTF8Text, "127.0.0.1")
			},
		},
		{
			ID: "udp-client/exits", Title: "exits with status 0 after sending",
			Requirement: fmt.Sprintf("The client ends by itself, with status 0, within %s.", probe.ExitTimeout),
			Category:    report.Lifecycle, Points: 1,
			Hint: "A UDP client sends its datagram and ends: do not wait for an answer the server never sends.",
			Run:  checkClientExits,
		},
		{
			ID: "udp-client/no-stdin", Title: "takes its input from the command line, not from the keyboard",
			Requirement: "The client reads nothing from standard input: host, port and message come from its arguments.",
			Category:    report.Start, Points: 1,
			Hint: "The message comes from the command line (sys.argv[3]), not from input().",
			Run:  checkNoStdin,
		},
	}
	return e
}

// runClient starts the client against a fresh port netgrade listens on, at
// each of hosts, and returns what arrived once the client exited (or was
// stopped at probe.ExitTimeout).
func runClient(t *graders.T, host, msg string, hosts ...string) (*harness.Process, []probe.Datagram, int, error) {
	port, err := t.Port()
	if err != nil {
		return nil, nil, 0, err
	}
	var peers []*probe.UDPPeer
	for _, h := range hosts {
		peer, err := probe.NewUDPPeer(t, h, port)
		if err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				return nil, nil, 0, fmt.Errorf("%w: %w", graders.ErrPortTaken, err)
			}
			if h == "::1" {
				continue // no IPv6 loopback here: IPv4 alone answers for localhost
			}
			return nil, nil, 0, err
		}
		peers = append(peers, peer)
	}
	p, err := t.Start(map[string]string{"host": host, "port": strconv.Itoa(port), "message": msg})
	if err != nil {
		return nil, nil, 0, err
	}
	wctx, cancel := context.WithTimeout(t.Context(), t.Timeout(probe.ExitTimeout))
	defer cancel()
	if _, err := p.Wait(wctx); err != nil {
		if t.Context().Err() != nil {
			return nil, nil, 0, t.Context().Err()
		}
		t.Note("the client was still running after %s: netgrade stops it", t.Timeout(probe.ExitTimeout))
		p.Stop()
	}
	_ = p.WaitOutput(t.Context())
	t.Note("the client has ended: netgrade reads every datagram that arrived")
	var got []probe.Datagram
	for _, peer := range peers {
		ds, err := peer.Drain()
		if err != nil {
			return nil, nil, 0, fmt.Errorf("reading netgrade's UDP socket: %w", err)
		}
		got = append(got, ds...)
	}
	return p, got, port, nil
}

// clientSends runs the client with host and msg and checks that exactly one
// datagram holding the UTF-8 bytes of msg arrived.
func clientSends(t *graders.T, host, msg string, listen ...string) error {
	p, got, port, err := runClient(t, host, msg, listen...)
	if err != nil {
		return err
	}
	want := []byte(msg)
	switch {
	case len(got) == 0:
		f := graders.Failf("no datagram arrived on UDP port %d (client %s)", port, p.Exit())
		f.Want(fmt.Sprintf("one datagram: %q (%d bytes)", msg, len(want)), "nothing")
		if p.Exit().Code == 0 && harness.LastTraceback(p.Output().Lines()) == nil {
			f.Hint = "The client ended without sending: check that it calls sendto() with (host, port) taken from sys.argv, and that PORT is the second argument."
		}
		return f
	case len(got) > 1:
		var parts []string
		for _, d := range got {
			parts = append(parts, fmt.Sprintf("%q", graders.Printable(d.Data)))
		}
		return graders.Failf("%d datagrams arrived; the client must send exactly one", len(got)).
			Want(fmt.Sprintf("one datagram: %q", msg), strings.Join(parts, ", ")).
			WithHint("Send the whole message once, in one sendto() call.")
	case string(got[0].Data) != msg:
		f := graders.Failf("the datagram does not hold the message's UTF-8 bytes").
			Want(fmt.Sprintf("%q = %s (%d bytes)", msg, probe.HexBytes(want), len(want)),
				fmt.Sprintf("%q = %s (%d bytes)", graders.Printable(got[0].Data), probe.HexBytes(got[0].Data), len(got[0].Data)))
		return f
	}
	return nil
}

func checkClientExits(ctx context.Context, t *graders.T) error {
	p, _, _, err := runClient(t, "127.0.0.1", "bye", "127.0.0.1")
	if err != nil {
		return err
	}
	ex := p.Exit()
	switch {
	case ex.StoppedBy != "":
		return graders.Failf("the client was still running %s after it started; netgrade had to stop it", t.Timeout(probe.ExitTimeout)).
			Want("exit status 0 within "+t.Timeout(probe.ExitTimeout).String(), "still running; printed:\n"+probe.PrintedSince(p, 0))
	case ex.Code != 0:
		return graders.Failf("the client %s", ex).Want("exit status 0", ex.String()+"; printed:\n"+probe.PrintedSince(p, 0))
	}
	return nil
}

func checkNoStdin(ctx context.Context, t *graders.T) error {
	p, _, _, err := runClient(t, "127.0.0.1", "hello", "127.0.0.1")
	if err != nil {
		return err
	}
	tb := harness.LastTraceback(p.Output().Lines())
	switch {
	case tb == nil:
		return nil
	case tb.IsSyntax():
		return graders.Skipf("the program does not compile (%s), so whether it reads standard input cannot be seen", tb.Line)
	case tb.Exception == "EOFError":
		return graders.Failf("the client reads standard input (input()), which is closed when it is graded: %s", tb.Line).
			Want("no read from standard input", tb.Line)
	}
	return nil
}
