package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// RunDelays are how long each thread of a program has waited for a CPU
// while it could run, by thread ID (see RunDelay).
type RunDelays map[string]time.Duration

// Grown returns the most any one thread's wait for a CPU grew from
// before to d: a lower bound of what the machine's other work added to
// the program's time in between (threads that wait at the same time
// would be counted twice by a sum; the one on the path to the answer
// waited at least this long only if it is the one that grew most, so the
// bound errs on the side of the program).
func (d RunDelays) Grown(before RunDelays) time.Duration {
	var most time.Duration
	for tid, v := range d {
		most = max(most, v-before[tid])
	}
	return most
}

// ThreadRunDelays returns, for every thread of the program rooted at pid,
// how long it has waited so far for a CPU while it could run (the second
// field of /proc/PID/task/TID/schedstat).
func ThreadRunDelays(pid int) (RunDelays, error) {
	tree, err := Tree(pid)
	if err != nil {
		return nil, err
	}
	out := RunDelays{}
	for _, p := range tree {
		tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", p.PID))
		if err != nil {
			return nil, err
		}
		for _, f := range tasks {
			b, err := os.ReadFile(f)
			if err != nil {
				continue // the thread ended
			}
			fields := strings.Fields(string(b))
			if len(fields) < 2 {
				return nil, fmt.Errorf("%s: unexpected %q", f, b)
			}
			ns, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			out[filepath.Base(filepath.Dir(f))] = time.Duration(ns)
		}
	}
	return out, nil
}
