package graders

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestSideBySideSequentialHoldsItsSlot grades Sequential exercises beside
// others on one slot: a Sequential exercise takes the slot for its first
// check and keeps it to its last, so that no check of another exercise
// comes between two of its checks (the slowest exercise of `netgrade
// check` never waits for the others), and the one with the longest floor
// takes it first, whatever the order of the jobs.
func TestSideBySideSequentialHoldsItsSlot(t *testing.T) {
	tests := []struct {
		name string
		// sequential and others are how many exercises of each kind run.
		sequential, others int
	}{
		{name: "one sequential exercise among others", sequential: 1, others: 2},
		{name: "two sequential exercises among others", sequential: 2, others: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var log []string // the exercise of each check, at its start and at its end
			check := func(ex, id string) *Check {
				note := func() {
					mu.Lock()
					log = append(log, ex)
					mu.Unlock()
				}
				return &Check{ID: ex + "/" + id, Title: id, Points: 1, Run: func(_ *T) error {
					note()
					// Long enough for the other jobs to queue for the slot.
					time.Sleep(10 * time.Millisecond)
					note()
					return nil
				}}
			}
			exercise := func(id string, sequential bool, floor time.Duration) *Job {
				e := &Exercise{ID: id, Sequential: sequential, Floor: floor}
				for _, c := range []string{"a", "b", "c"} {
					e.Checks = append(e.Checks, check(id, c))
				}
				return &Job{Exercise: e, Submission: Submission{Name: id, Command: []string{"true"}}}
			}
			var jobs []*Job
			for i := range tc.others {
				jobs = append(jobs, exercise(fmt.Sprintf("other%d", i), false, time.Second))
			}
			// The longest floor is handed in last: the floors, not the
			// order of the jobs, decide.
			for i := range tc.sequential {
				jobs = append(jobs, exercise(fmt.Sprintf("seq%d", i), true, time.Duration(i+2)*time.Second))
			}
			GradeSideBySide(context.Background(), jobs, Options{Slots: NewSlots(1)}, nil)

			for _, j := range jobs {
				assert.Equal(t, j.Result.MaxScore, j.Result.Score, "%s: every check ran and passed", j.Exercise.ID)
				if !j.Exercise.Sequential {
					continue
				}
				first, last := -1, -1
				for i, ex := range log {
					if ex == j.Exercise.ID {
						last = i
						if first < 0 {
							first = i
						}
					}
				}
				assert.Equal(t, 2*len(j.Exercise.Checks)-1, last-first, "%s: its checks follow one another with no other check in between; log: %v", j.Exercise.ID, log)
			}
			longest := fmt.Sprintf("seq%d", tc.sequential-1)
			assert.Equal(t, longest, log[0], "the exercise with the longest floor takes the slot first; log: %v", log)
		})
	}
}
