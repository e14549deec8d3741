package interop

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/observe"
)

// RefFunc is a reference implementation run inside netgrade: it runs with
// args until it is done or ctx ends and returns its exit status.
type RefFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// program is one side of a cell while it runs: a student's program (a
// process under the harness) or a reference (a goroutine of netgrade).
type program interface {
	// pid is the process that holds the program's sockets.
	pid() int
	// done is closed when the program has ended.
	done() <-chan struct{}
	// lines returns what it printed so far.
	lines() []harness.Line
	// status says how it ended, or "still running".
	status() string
	// exitCode returns its exit status once ended.
	exitCode() (int, bool)
	// waitingToRead reports whether it is blocked reading a socket.
	waitingToRead() bool
	// stop ends it and everything it started.
	stop()
	// drain waits, once it has ended, until what it printed is read to
	// the end (bounded), so that nothing it printed is judged missing.
	drain()
	// runDelays are how long its threads have waited for a CPU so far
	// (none for a reference).
	runDelays() observe.RunDelays
}

// studentProgram is a student's program under the harness.
type studentProgram struct{ p *harness.Process }

func (s studentProgram) pid() int              { return s.p.Pid() }
func (s studentProgram) done() <-chan struct{} { return s.p.Done() }
func (s studentProgram) lines() []harness.Line { return s.p.Output().Lines() }
func (s studentProgram) status() string        { return s.p.Exit().String() }
func (s studentProgram) stop()                 { s.p.Stop() }
func (s studentProgram) waitingToRead() bool {
	_, ok, _ := observe.BlockedReading(s.p.Pid())
	return ok
}
func (s studentProgram) exitCode() (int, bool) {
	e := s.p.Exit()
	return e.Code, e.Exited && e.StoppedBy == ""
}
func (s studentProgram) runDelays() observe.RunDelays {
	d, _ := observe.ThreadRunDelays(s.p.Pid())
	return d
}

func (s studentProgram) drain() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.p.WaitOutput(ctx)
}

// refProgram is a reference implementation running in netgrade.
type refProgram struct {
	cancel context.CancelFunc
	end    chan struct{}
	out    *lineWriter
	mu     sync.Mutex
	code   int
	ended  bool
	killed bool
}

func startRef(ctx context.Context, f RefFunc, args []string) *refProgram {
	ctx, cancel := context.WithCancel(ctx)
	r := &refProgram{cancel: cancel, end: make(chan struct{}), out: &lineWriter{}}
	go func() {
		code := f(ctx, args, r.out.stream(harness.Stdout), r.out.stream(harness.Stderr))
		r.mu.Lock()
		r.code, r.ended = code, true
		r.mu.Unlock()
		close(r.end)
	}()
	return r
}

func (r *refProgram) pid() int { return os.Getpid() }
func (r *refProgram) drain()   {}
func (r *refProgram) runDelays() observe.RunDelays {
	return nil
}
func (r *refProgram) done() <-chan struct{} { return r.end }
func (r *refProgram) lines() []harness.Line { return r.out.lines() }

// waitingToRead is true while a reference runs: a reference client that
// has not ended waits for the server (it reads once, with no timeout).
func (r *refProgram) waitingToRead() bool {
	select {
	case <-r.end:
		return false
	default:
		return true
	}
}
func (r *refProgram) status() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case !r.ended:
		return "still running"
	case r.killed:
		return "stopped by netgrade"
	}
	return fmt.Sprintf("exited with status %d", r.code)
}
func (r *refProgram) exitCode() (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.code, r.ended && !r.killed
}
func (r *refProgram) stop() {
	r.mu.Lock()
	if !r.ended {
		r.killed = true
	}
	r.mu.Unlock()
	r.cancel()
	select {
	case <-r.end:
	case <-time.After(5 * time.Second):
	}
}

// lineWriter collects a reference's output as timed lines.
type lineWriter struct {
	mu      sync.Mutex
	partial map[harness.Stream]*bytes.Buffer
	out     []harness.Line
}

type streamWriter struct {
	w *lineWriter
	s harness.Stream
}

func (w *lineWriter) stream(s harness.Stream) io.Writer { return streamWriter{w, s} }

func (sw streamWriter) Write(b []byte) (int, error) {
	w := sw.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.partial == nil {
		w.partial = map[harness.Stream]*bytes.Buffer{}
	}
	buf := w.partial[sw.s]
	if buf == nil {
		buf = &bytes.Buffer{}
		w.partial[sw.s] = buf
	}
	buf.Write(b)
	for {
		i := bytes.IndexByte(buf.Bytes(), '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSuffix(string(buf.Next(i+1)), "\n")
		w.out = append(w.out, harness.Line{Time: time.Now(), Stream: sw.s, Text: strings.TrimSuffix(line, "\r")})
	}
	return len(b), nil
}

func (w *lineWriter) lines() []harness.Line {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]harness.Line(nil), w.out...)
}
