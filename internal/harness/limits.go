package harness

import (
	"fmt"
	"io"
	"sync"
)

// Limits bound the resources of one program and of everything it starts.
// A zero field takes its value from DefaultLimits; a negative one means no
// limit.
type Limits struct {
	// Memory bounds the memory of the program, in bytes: of all its
	// processes together where it has a cgroup of its own (memory.max),
	// else of each process (RLIMIT_DATA).
	Memory int64
	// Processes bounds how many processes and threads the program runs at
	// once: in its cgroup (pids.max), else beyond those its user already
	// runs (RLIMIT_NPROC, which the kernel does not apply to root).
	Processes int64
	// Output bounds how many bytes netgrade reads from each of the
	// program's streams; past it netgrade kills the program. It is well
	// above the bytes kept (Spec.OutputCap): only a program that prints
	// without end reaches it.
	Output int64
}

// DefaultLimits are the limits of a program whose Spec sets none: the
// memory and process limits of the docker sandbox, and an output limit no
// correct submission comes near within a check.
var DefaultLimits = Limits{Memory: 512 << 20, Processes: 256, Output: 16 << 20}

// withDefaults returns l with every zero field set from DefaultLimits.
func (l Limits) withDefaults() Limits {
	if l.Memory == 0 {
		l.Memory = DefaultLimits.Memory
	}
	if l.Processes == 0 {
		l.Processes = DefaultLimits.Processes
	}
	if l.Output == 0 {
		l.Output = DefaultLimits.Output
	}
	return l
}

// addressSpaceLimit bounds each process's virtual address space
// (RLIMIT_AS), whatever the containment: a last safety net, far above what
// a program uses, since thread stacks and malloc arenas reserve much more
// address space than they fill.
const addressSpaceLimit = 4 << 30

// The kinds of limit a program can run into.
const (
	LimitMemory    = "memory"
	LimitProcesses = "processes"
	LimitOutput    = "output"
)

// LimitHit says which of netgrade's limits a program ran into.
type LimitHit struct {
	// Kind is LimitMemory, LimitProcesses or LimitOutput; empty when the
	// program ran into none.
	Kind string
	// Value is the limit: bytes, or processes and threads.
	Value int64
	// Stream is the stream that passed the output limit.
	Stream Stream
	// PerProcess is true when the memory limit applied to each process
	// (RLIMIT_DATA) rather than to the program as a whole.
	PerProcess bool
}

// String explains the limit in words for a report, naming its value, or
// returns "" when no limit was hit.
func (h LimitHit) String() string {
	switch h.Kind {
	case LimitMemory:
		if h.PerProcess {
			return fmt.Sprintf("it ran out of memory: a process may use at most %s (netgrade's memory limit)", Bytes(h.Value))
		}
		return fmt.Sprintf("it used more than netgrade's memory limit of %s and the kernel killed it", Bytes(h.Value))
	case LimitProcesses:
		return fmt.Sprintf("it tried to run more than %d processes and threads at once, netgrade's limit", h.Value)
	case LimitOutput:
		return fmt.Sprintf("it printed more than %s on %s, netgrade's output limit, and netgrade killed it", Bytes(h.Value), h.Stream)
	}
	return ""
}

// Bytes formats a size in bytes for a message: 512 MiB, 16 KiB, 100 bytes.
func Bytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}

// limitReader passes a stream through and calls hit once when more than
// max bytes have been read, so that a program printing without end is
// stopped; it keeps passing what follows, so that the program never blocks
// on a full pipe while it is being killed.
type limitReader struct {
	r    io.Reader
	max  int64
	n    int64
	once sync.Once
	hit  func()
}

func (l *limitReader) Read(b []byte) (int, error) {
	n, err := l.r.Read(b)
	l.n += int64(n)
	if l.max > 0 && l.n > l.max {
		l.once.Do(l.hit)
	}
	return n, err
}
