package poll_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netgrade/netgrade/internal/poll"
)

func TestWait(t *testing.T) {
	errNo := errors.New("the answer is no")
	cases := []struct {
		name      string
		doneAt    int // the look (1-based) that returns Done; 0: never
		failAt    int // the look that returns Fail
		timeout   time.Duration
		wantErr   error // errors.Is target
		wantLooks int   // exact, or 0 to skip
		wantLast  string
	}{
		{name: "known at the first look", doneAt: 1, timeout: time.Second, wantLooks: 1},
		{name: "known at the fifth look", doneAt: 5, timeout: time.Second, wantLooks: 5, wantLast: "look 4"},
		{name: "no at the third look", failAt: 3, timeout: time.Second, wantErr: errNo, wantLooks: 3, wantLast: "look 2"},
		{name: "never known", timeout: 30 * time.Millisecond, wantErr: context.DeadlineExceeded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			n := 0
			st, err := poll.Wait(ctx, func(context.Context) poll.Result {
				n++
				switch n {
				case tc.doneAt:
					return poll.Done()
				case tc.failAt:
					return poll.Fail(errNo)
				}
				return poll.Continue("look %d", n)
			})
			if tc.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.wantErr)
			}
			if tc.wantLooks > 0 {
				assert.Equal(t, tc.wantLooks, st.Looks)
			}
			if tc.wantLast != "" {
				assert.Equal(t, tc.wantLast, st.Last)
			}
			assert.Equal(t, n, st.Looks)
		})
	}
}

// TestTimeoutSaysWhatWasSeen: the error of a wait that timed out carries
// the last look's message, so that it explains itself.
func TestTimeoutSaysWhatWasSeen(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	n := 0
	_, err := poll.Wait(ctx, func(context.Context) poll.Result {
		n++
		return poll.Continue("%d sockets, none on port 4242", n)
	})
	var te *poll.TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, n, te.Looks)
	assert.Contains(t, err.Error(), "none on port 4242")
	assert.Contains(t, err.Error(), "last seen:")
}

// TestBackoff: the delays between looks double from the first delay up to
// the cap, so that a 100 ms wait takes a handful of looks, not a hundred.
func TestBackoff(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var at []time.Time
	_, err := poll.Wait(ctx, func(context.Context) poll.Result {
		at = append(at, time.Now())
		return poll.Continue("waiting")
	}, poll.Backoff(time.Millisecond, 16*time.Millisecond))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	// 1+2+4+8+16 = 31 ms for the first six looks, then one every 16 ms:
	// at most 11 looks in 100 ms (timers never fire early; a loaded machine
	// only makes fewer); a fixed 1 ms poll would make a hundred.
	assert.LessOrEqual(t, len(at), 11)
	for i := 1; i < len(at) && i < 5; i++ {
		gap := at[i].Sub(at[i-1])
		assert.GreaterOrEqual(t, gap, time.Duration(1<<(i-1))*time.Millisecond, "gap %d", i)
	}
}

// TestStopOn: a closed stop channel ends the wait with its error after one
// last look, which may still find the answer.
func TestStopOn(t *testing.T) {
	errExited := errors.New("exited")
	for _, tc := range []struct {
		name      string
		lastKnown bool
		want      error
	}{
		{name: "stopped", want: errExited},
		{name: "answer known at the last look", lastKnown: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stop := make(chan struct{})
			looks := 0
			st, err := poll.Wait(context.Background(), func(context.Context) poll.Result {
				looks++
				select {
				case <-stop:
					if tc.lastKnown {
						return poll.Done()
					}
				default:
					close(stop)
				}
				return poll.Continue("look %d", looks)
			}, poll.StopOn(stop, errExited), poll.Backoff(time.Hour, time.Hour))
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, 2, st.Looks)
		})
	}
}

// TestWakeOn: an event triggers a look at once, whatever the backoff.
func TestWakeOn(t *testing.T) {
	wake := make(chan struct{}, 1)
	looks := 0
	begin := time.Now()
	go func() {
		time.Sleep(5 * time.Millisecond)
		wake <- struct{}{}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := poll.Wait(ctx, func(context.Context) poll.Result {
		looks++
		if looks == 2 {
			return poll.Done()
		}
		return poll.Continue("waiting for the event")
	}, poll.WakeOn(wake), poll.Backoff(time.Hour, time.Hour))
	require.NoError(t, err)
	assert.Less(t, time.Since(begin), time.Second)
}

// TestCanceledBeforeFirstLook: a context already done makes no look.
func TestCanceledBeforeFirstLook(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	st, err := poll.Wait(ctx, func(context.Context) poll.Result { return poll.Done() })
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, st.Looks)
}
