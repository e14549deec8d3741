// Package mailprobe runs a student's mail client against one of netgrade's
// mail servers (internal/mailserver) and records the dialogue in the
// check's transcript.
package mailprobe

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/mailserver"
)

// ExitTimeout bounds the wait for a mail client to end by itself, from
// its start. It is longer than probe.ExitTimeout: a mail client imports
// ssl and email, which takes Python seconds on a loaded machine; only a
// client that hangs waits it out.
const ExitTimeout = 15 * time.Second

// CheckTimeout is the watchdog deadline of a mail check: one run of the
// client, ExitTimeout at most, and the server's start and stop.
const CheckTimeout = 3 * ExitTimeout

// drainGrace bounds the wait for the server's connections to end once the
// client has: the client's end of the socket is closed by then, so the
// relay reads what is left at once.
const drainGrace = 2 * time.Second

// recorder writes a mail server's dialogue into a check's transcript: the
// client's lines as received from the program, the server's as sent to it,
// notes as notes. Passwords arrive masked. The protocol column says "/tls"
// for lines that went over TLS.
type recorder struct {
	t     *graders.T
	proto string
}

// Recorder returns the Recorder of a check's transcript for a server of
// proto ("smtp", "pop3", "imap").
func Recorder(t *graders.T, proto string) mailserver.Recorder {
	return &recorder{t: t, proto: proto}
}

func (r *recorder) Line(l mailserver.Line) {
	proto := r.proto
	if l.TLS {
		proto += "/tls"
	}
	if l.FromClient {
		r.t.Received(proto, l.Client, l.Server, []byte(l.Text), l.At)
		return
	}
	r.t.Sent(proto, l.Server, l.Client, []byte(l.Text))
}

func (r *recorder) Note(_ time.Time, conn int, text string) {
	if conn > 1 {
		text = fmt.Sprintf("(connection %d) %s", conn, text)
	}
	r.t.Note("%s", text)
}

// Server is a mail server whose facts a check reads.
type Server[F any] interface {
	mailserver.Server
	Facts() F
}

// Run is one run of the client against a server: the program and what the
// server saw.
type Run[F any] struct {
	P     *harness.Process
	Port  int
	Facts F
}

// Client starts a server with start and cfg on a fresh port, runs the
// client with vars ({port} is set), waits up to ExitTimeout for it
// to end (then stops it), lets the server's connections end, stops the
// server and returns what it saw. cfg's Password and Secrets are masked in
// the transcript.
func Client[F any, S Server[F]](t *graders.T, proto string, start func(context.Context, mailserver.Config) (S, error), cfg mailserver.Config, vars map[string]string) (*Run[F], error) {
	port, err := t.Port()
	if err != nil {
		return nil, err
	}
	cfg.Port, cfg.Recorder, cfg.KeyLog = port, Recorder(t, proto), t.KeyLog()
	// The passwords are on the client's command line and in its output,
	// maybe: the transcript masks them as the server masks its records.
	t.Mask(append([]string{cfg.Password}, cfg.Secrets...)...)
	srv, err := start(t.Context(), cfg)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("%w: %w", graders.ErrPortTaken, err)
		}
		return nil, err
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(t.Context(), t.Timeout(drainGrace))
		defer cancel()
		srv.Shutdown(ctx)
	}
	offer := "offering no TLS"
	if cfg.StartTLS {
		offer = "offering STARTTLS"
		if proto == "pop3" {
			offer = "offering STLS"
		}
	}
	t.Note("netgrade's %s server listens on 127.0.0.1:%d, %s", proto, port, offer)
	args := map[string]string{"port": strconv.Itoa(port)}
	for k, v := range vars {
		args[k] = v
	}
	p, err := t.Start(args)
	if err != nil {
		stop()
		return nil, err
	}
	wctx, cancel := context.WithTimeout(t.Context(), t.Timeout(ExitTimeout))
	defer cancel()
	if _, err := p.Wait(wctx); err != nil {
		if t.Context().Err() != nil {
			stop()
			return nil, t.Context().Err()
		}
		t.Note("the client was still running %s after it started: netgrade stops it", t.Timeout(ExitTimeout))
		p.Stop()
	}
	_ = p.WaitOutput(t.Context())
	stop()
	return &Run[F]{P: p, Port: port, Facts: srv.Facts()}, nil
}
