// Package poll waits until a condition is known to hold, looking at it with
// a backoff: the first look at once, then after 1 ms, 2 ms, 4 ms... up to a
// cap, so that an answer that comes quickly is seen quickly and a long wait
// costs a few looks a second. Every look says what it saw; a wait that times
// out says what it saw last (as gotest.tools' poll.Continue does), so that
// the message of a failed wait explains itself.
//
// Where an event source exists (a process exit, a netlink notification, a
// new output line), pass it as a wake-up: the next look then happens at
// once, and the backoff only bounds how long a missed event can go unseen.
package poll

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Defaults of the backoff.
const (
	// DefaultFirst is the delay before the second look.
	DefaultFirst = time.Millisecond
	// DefaultCap is the longest delay between two looks.
	DefaultCap = 16 * time.Millisecond
)

// Result is what one look found: the answer is known (Done), not known yet
// (Continue, with what was seen), or the wait must end with an error (Fail).
type Result struct {
	done bool
	err  error
	msg  string
}

// Continue says the answer is not known yet; the message says what the
// look saw, for the error of a wait that times out.
func Continue(format string, args ...any) Result {
	return Result{msg: fmt.Sprintf(format, args...)}
}

// Done says the condition holds: the wait ends without error.
func Done() Result { return Result{done: true} }

// Fail ends the wait at once with err: the answer is known and it is no.
func Fail(err error) Result { return Result{done: true, err: err} }

// Stats says how a wait went: how many looks it took, how long it lasted,
// and what the last look that did not end it saw.
type Stats struct {
	Looks   int
	Elapsed time.Duration
	Last    string
}

// TimeoutError is returned by a wait whose context ended before the answer
// was known. It unwraps to the context's error, so that
// errors.Is(err, context.DeadlineExceeded) holds.
type TimeoutError struct {
	Stats
	Err error
}

func (e *TimeoutError) Error() string {
	last := e.Last
	if last == "" {
		last = "nothing"
	}
	return fmt.Sprintf("gave up after %s and %d look%s: %v; last seen: %s",
		e.Elapsed.Round(time.Millisecond), e.Looks, plural(e.Looks), e.Err, last)
}

func (e *TimeoutError) Unwrap() error { return e.Err }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Option adjusts a wait.
type Option func(*config)

type config struct {
	first, cap time.Duration
	wake       <-chan struct{}
	stop       <-chan struct{}
	stopErr    error
}

// Backoff sets the delay before the second look and the cap the delay
// doubles up to.
func Backoff(first, cap time.Duration) Option {
	return func(c *config) {
		if first > 0 {
			c.first = first
		}
		if cap > 0 {
			c.cap = cap
		}
	}
}

// WakeOn makes every value received from (or the closing of) ch trigger a
// look at once: an event that may have changed the answer. The backoff
// starts over after a wake-up.
func WakeOn(ch <-chan struct{}) Option {
	return func(c *config) { c.wake = ch }
}

// StopOn ends the wait with err when ch is closed (the program observed
// has exited, say) and the look made then does not end it first.
func StopOn(ch <-chan struct{}, err error) Option {
	return func(c *config) { c.stop, c.stopErr = ch, err }
}

// ErrStopped is the error of a wait stopped by StopOn with a nil error.
var ErrStopped = errors.New("poll: stopped")

// Wait looks at the condition with look until a look returns Done or Fail,
// ctx ends (a *TimeoutError), or a StopOn channel closes. The first look is
// made at once.
func Wait(ctx context.Context, look func(context.Context) Result, opts ...Option) (Stats, error) {
	c := config{first: DefaultFirst, cap: DefaultCap}
	for _, o := range opts {
		o(&c)
	}
	if c.cap < c.first {
		c.cap = c.first
	}
	begin := time.Now()
	var st Stats
	delay := c.first
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	stopped := false
	for {
		if err := ctx.Err(); err != nil {
			st.Elapsed = time.Since(begin)
			return st, &TimeoutError{Stats: st, Err: err}
		}
		r := look(ctx)
		st.Looks++
		if r.done {
			st.Elapsed = time.Since(begin)
			return st, r.err
		}
		st.Last = r.msg
		if stopped {
			st.Elapsed = time.Since(begin)
			if c.stopErr == nil {
				return st, ErrStopped
			}
			return st, c.stopErr
		}
		timer.Reset(delay)
		select {
		case <-ctx.Done():
		case <-c.stop:
			// One more look: what the event changed may be the answer.
			stopped, c.stop = true, nil
		case _, ok := <-c.wake:
			if !ok {
				c.wake = nil
			}
			delay = c.first
			continue
		case <-timer.C:
		}
		if delay < c.cap {
			delay = min(2*delay, c.cap)
		}
	}
}
