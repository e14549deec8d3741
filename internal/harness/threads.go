package harness

import (
	"runtime"
	"sync"
)

// UnitThreads is how many OS threads a unit runner reserves: far more than
// it ever blocks in system calls at once (a program's output, its wait,
// the /proc reads and the probes of one check at a time).
const UnitThreads = 32

// ReserveThreads makes the Go runtime create n OS threads now and keep
// them idle for later use. A process that shares a limit on processes and
// threads with the programs it runs (a container's pids limit) calls it
// before starting any: the Go runtime dies when it cannot create a thread,
// and a fork bomb takes every free slot of the limit, so netgrade must
// hold its threads before the program takes the rest. The runtime never
// releases an idle thread, so the reservation lasts as long as the
// process.
func ReserveThreads(n int) {
	var locked, release sync.WaitGroup
	locked.Add(n)
	release.Add(1)
	var done sync.WaitGroup
	done.Add(n)
	for range n {
		go func() {
			defer done.Done()
			// A goroutine locked to its thread keeps that thread to itself:
			// n of them at once need n threads.
			runtime.LockOSThread()
			locked.Done()
			release.Wait()
			runtime.UnlockOSThread()
		}()
	}
	locked.Wait()
	release.Done()
	done.Wait()
}
