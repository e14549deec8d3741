package probe

import (
	"context"
	"time"
)

// ReplyIdle is the idle window of a reply: once the program has sent
// something, a reply that still lacks what the check judges ends when the
// program has then been quiet this long (scaled). It is longer than the
// pauses of programs that say "please wait" before their answer (the
// course's ticket takes a second or two to prepare): a program that pauses
// and then answers is waited for, and only one that has nothing more to
// say waits it out. A check that judges a reply ended so says the program
// went quiet.
const ReplyIdle = 4 * time.Second

// AnswerIdle is the idle window of a reply that has nothing to wait for
// by design (a text answer, an echo): once the program has sent something,
// it is whole when the program has then been quiet this long (scaled). A
// greeting sent before the message is read and the answer sent after it
// come within milliseconds of each other; one second covers a loaded
// machine.
const AnswerIdle = time.Second

// Reply is a reply as a client reads it: every piece the program sent
// until the check had what it judges, the program closed, or it went
// quiet (see ReadReply). Greetings, banners, "please wait" lines, answers
// split over several sends and text after the answer are all part of it.
type Reply struct {
	// Data is everything received.
	Data []byte
	// Judged is the length of the start of Data that holds what the check
	// judges, or 0 when it never came.
	Judged int
	// At is when the piece that completed what is judged arrived; when
	// nothing judged came, when the last byte arrived (zero if none did).
	At time.Time
	// EOF says the program closed (or reset) the connection.
	EOF bool
	// Quiet says the reply ended because the program, after sending
	// something, was quiet for the idle window.
	Quiet bool
	// Idle is the idle window that was applied (scaled).
	Idle time.Duration
}

// Complete reports whether the reply holds what the check judges.
func (r Reply) Complete() bool { return r.Judged > 0 }

// ReadReply reads a reply until has finds in it what the check judges
// (has returns the length of the start of the data that holds it, or 0),
// the program closes the connection, ctx ends, or the program, having
// sent something, has been quiet for idle (scaled; ReplyIdle when zero,
// no idle window when negative: a client held silent, which expects
// nothing yet). Quiet is counted from the last byte or from the call,
// whichever is later: what the program sent before netgrade's own request
// does not make it quiet. It never stops at a first piece: a reply that
// lacks what is judged is read on.
func (c *TCPConn) ReadReply(ctx context.Context, idle time.Duration, has func(data []byte) int) Reply {
	begin := time.Now()
	switch {
	case idle == 0:
		idle = c.t.Timeout(ReplyIdle)
	case idle > 0:
		idle = c.t.Timeout(idle)
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		c.mu.Lock()
		data, last, eof, ch := append([]byte(nil), c.buf...), c.lastAt, c.eof, c.changed
		pieces := append([]piece(nil), c.pieces...)
		c.mu.Unlock()
		if n := has(data); n > 0 {
			return Reply{Data: data, Judged: n, At: arrivedAt(pieces, n), EOF: eof, Idle: idle}
		}
		if eof {
			return Reply{Data: data, At: last, EOF: true, Idle: idle}
		}
		var quiet <-chan time.Time
		if len(data) > 0 && idle > 0 {
			left := idle - time.Since(later(last, begin))
			if left <= 0 {
				return Reply{Data: data, At: last, Quiet: true, Idle: idle}
			}
			if timer == nil {
				timer = time.NewTimer(left)
			} else {
				timer.Reset(left)
			}
			quiet = timer.C
		}
		select {
		case <-ctx.Done():
			return Reply{Data: data, At: last, Idle: idle}
		case <-ch:
		case <-quiet:
		}
	}
}

// ReadReplyFor is ReadReply bounded by timeout (scaled) instead of a
// context.
func (c *TCPConn) ReadReplyFor(timeout, idle time.Duration, has func(data []byte) int) Reply {
	ctx, cancel := context.WithTimeout(c.t.Context(), c.t.Timeout(timeout))
	defer cancel()
	return c.ReadReply(ctx, idle, has)
}

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// ReadAnswer reads a reply whose content no check can recognise by itself
// (any text answers): until the program closes, or, having sent
// something, is quiet for AnswerIdle; it waits up to timeout (scaled) for
// the first byte. A greeting and the answer after it are one reply.
func (c *TCPConn) ReadAnswer(timeout time.Duration) Reply {
	return c.ReadReplyFor(timeout+AnswerIdle, AnswerIdle, func([]byte) int { return 0 })
}
