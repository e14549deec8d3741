package graders

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"sync"
)

// Slots bounds how many checks run at once across gradings that run side
// by side (GradeSideBySide): every check holds a slot while it runs, so
// that however many exercises are graded together, at most that many
// programs are being started and probed at once. A nil *Slots bounds
// nothing.
type Slots struct {
	ch chan struct{}
}

// NewSlots returns n slots (at least one).
func NewSlots(n int) *Slots {
	return &Slots{ch: make(chan struct{}, max(1, n))}
}

// DefaultSlots is how many checks run at once in one `netgrade check`:
// four per core, as checks spend most of their time waiting on their
// programs.
func DefaultSlots() int { return 4 * runtime.NumCPU() }

// acquire takes a slot, or returns false when ctx ends first.
func (s *Slots) acquire(ctx context.Context) bool {
	if s == nil {
		return true
	}
	select {
	case s.ch <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// tryAcquire takes a slot if one is free at once.
func (s *Slots) tryAcquire() bool {
	if s == nil {
		return false
	}
	select {
	case s.ch <- struct{}{}:
		return true
	default:
		return false
	}
}

// release gives a slot back.
func (s *Slots) release() {
	if s != nil {
		<-s.ch
	}
}

// GradeSideBySide grades every job at the same time, so that the waits
// their checks make by design (a waiting server's seconds, the windows of
// the concurrency exercises) overlap instead of adding up, and calls done
// (when not nil) with each job as it finishes. opt.Slots (DefaultSlots
// when nil) bounds the checks running at once across all the jobs; the
// jobs with the longest Floor claim slots first, as they set the time the
// whole takes. An exercise marked Sequential holds one slot from its
// first check to its last, taken here, before any job starts, when one is
// free: the slowest exercise (tcp-tickets, whose checks follow one
// another) never waits between two checks for the checks of the others.
//
// Each exercise keeps the isolation it has when graded alone: its checks
// run up to opt.Parallel at a time, one at a time for an exercise marked
// Sequential (the concurrency exercises judge the overlap of their own
// clients, never timing against other programs), each check with its own
// program and ports.
func GradeSideBySide(ctx context.Context, jobs []*Job, opt Options, done func(*Job)) {
	if opt.Slots == nil {
		opt.Slots = NewSlots(DefaultSlots())
	}
	opt.defaults() // one set of ports and interpreters for all
	order := slices.Clone(jobs)
	slices.SortStableFunc(order, func(a, b *Job) int { return cmp.Compare(b.Exercise.Floor, a.Exercise.Floor) })
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, j := range order {
		jopt := j.options(opt)
		if j.Exercise.Sequential && opt.Slots.tryAcquire() {
			jopt.slotHeld = true
		}
		wg.Go(func() {
			if jopt.slotHeld {
				defer opt.Slots.release()
			}
			j.Result = j.Exercise.Grade(ctx, j.Submission, jopt)
			if done != nil {
				mu.Lock()
				defer mu.Unlock()
				done(j)
			}
		})
	}
	wg.Wait()
}
