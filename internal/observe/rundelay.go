package observe

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

// Grown returns how long the thread that served a request waited for a
// CPU between before and d: a lower bound of what the machine's other
// work added to the program's time in between.
//
// Which thread served it is not seen, so the bound is taken where it
// cannot be charged to a thread off the request's path: when threads or
// processes started between before and d (a forking or threading server
// starts one per client), the most any of them waited; when none did (a
// server that handles its client in the thread that accepted it), the
// most any thread waited. A server's accept loop wakes every half second
// (socketserver's poll interval) and may wait for a CPU each time while
// the client's own thread sleeps: counting it would charge that thread
// with a delay the answer never had.
func (d RunDelays) Grown(before RunDelays) time.Duration {
	var fresh, all time.Duration
	started := false
	for tid, v := range d {
		old, seen := before[tid]
		all = max(all, v-old)
		if !seen {
			started = true
			fresh = max(fresh, v)
		}
	}
	if started {
		return fresh
	}
	return all
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
