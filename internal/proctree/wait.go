package proctree

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netgrade/netgrade/internal/poll"
)

// How WaitGone saw the processes end.
const (
	// ByPidfd: a pidfd per process (Linux 5.3 and later), which the kernel
	// makes readable when the process exits: no look until then.
	ByPidfd = "pidfd"
	// ByPolling: the processes' stat files read with a backoff, where
	// pidfd_open is refused.
	ByPolling = "polling /proc/PID/stat"
)

// Alive reports whether the process p names is still running: same PID,
// same start time, not a zombie.
func (p Proc) Alive() bool { return New("").Alive(p) }

// Alive reports whether p still runs: same PID, same start time, not a
// zombie.
func (r *Reader) Alive(p Proc) bool {
	now, err := r.Stat(p.PID)
	return err == nil && now.Started == p.Started && !now.Gone()
}

// WaitGone waits until every process of procs has ended (exited, even if
// not yet reaped, or its PID now names another process) or ctx ends. It
// returns how it waited (ByPidfd, or ByPolling where pidfd_open is
// refused) and, if ctx ended first, a *poll.TimeoutError naming the
// processes still running.
func (r *Reader) WaitGone(ctx context.Context, procs []Proc) (string, error) {
	begin := time.Now()
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for _, p := range procs {
		fd, err := unix.PidfdOpen(p.PID, unix.PIDFD_NONBLOCK)
		switch {
		case errors.Is(err, unix.ESRCH):
			continue // already reaped
		case err != nil:
			return ByPolling, r.pollGone(ctx, procs)
		}
		f := os.NewFile(uintptr(fd), fmt.Sprintf("pidfd %d", p.PID))
		// The pidfd pins the process of that PID now: check it is still
		// the one asked for.
		if !r.Alive(p) {
			f.Close()
			continue
		}
		files = append(files, f)
	}
	stop := context.AfterFunc(ctx, func() {
		for _, f := range files {
			_ = f.SetReadDeadline(time.Unix(1, 0))
		}
	})
	defer stop()
	for _, f := range files {
		if err := waitReadable(f); err != nil {
			if ctx.Err() != nil {
				return ByPidfd, &poll.TimeoutError{
					Stats: poll.Stats{Looks: 1, Elapsed: time.Since(begin), Last: fmt.Sprintf("still running: %v", r.running(procs))},
					Err:   ctx.Err(),
				}
			}
			// The pidfd could not be waited on: fall back for the rest.
			return ByPolling, r.pollGone(ctx, procs)
		}
	}
	return ByPidfd, nil
}

// waitReadable blocks until the pidfd f is readable (its process exited),
// through the runtime's poller, until f's read deadline.
func waitReadable(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var perr error
	err = rc.Read(func(fd uintptr) bool {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 0)
		if err != nil && err != unix.EINTR {
			perr = err
			return true
		}
		return n > 0
	})
	if err != nil {
		return err
	}
	return perr
}

// pollGone is WaitGone by looking at the processes' stat files.
func (r *Reader) pollGone(ctx context.Context, procs []Proc) error {
	_, err := poll.Wait(ctx, func(context.Context) poll.Result {
		left := r.running(procs)
		if len(left) == 0 {
			return poll.Done()
		}
		return poll.Continue("still running: %v", left)
	})
	return err
}

// running returns the PIDs of the processes of procs that still run.
func (r *Reader) running(procs []Proc) []int {
	var left []int
	for _, p := range procs {
		if r.Alive(p) {
			left = append(left, p.PID)
		}
	}
	return left
}
