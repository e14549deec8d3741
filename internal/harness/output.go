package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"
	"time"
)

// Stream names where a line of output came from.
type Stream string

// The two streams a program writes to. Both count as what the program
// "prints"; they are kept apart only for diagnostics.
const (
	Stdout Stream = "stdout"
	Stderr Stream = "stderr"
)

// DefaultOutputCap is how many bytes of each stream are kept before the rest
// is dropped behind a truncation mark.
const DefaultOutputCap = 1 << 20

// maxLineLen bounds a single line; longer ones are split so that a program
// printing without newlines cannot grow one line without limit.
const maxLineLen = 64 << 10

// DefaultMaxLines is how many lines of each stream are kept before the
// rest is dropped behind a truncation mark. It bounds the memory of a
// program printing short lines without end (a loop on a closed socket
// prints about 150,000 empty lines a second, each well under the byte cap).
const DefaultMaxLines = 20000

// TruncationMark is the text of the line appended when a stream passes its cap.
const TruncationMark = "[netgrade: output truncated: more than the cap of %d bytes was printed]"

// LineTruncationMark is the text of the line appended when a stream passes
// DefaultMaxLines lines.
const LineTruncationMark = "[netgrade: output truncated: more than %d lines were printed]"

// Line is one line a program printed, with the time it was read.
type Line struct {
	Time   time.Time
	Stream Stream
	Text   string
	// Mark is true for lines netgrade added itself (truncation marks).
	Mark bool
}

// ErrOutputClosed is returned by Output.Wait when both streams have ended
// without a line matching.
var ErrOutputClosed = errors.New("the program closed its output")

// Output collects the lines of a program's stdout and stderr as they are
// printed and lets checks wait for a line by event, with a deadline.
type Output struct {
	mu      sync.Mutex
	lines   []Line
	changed chan struct{}
	open    int
	cap     int
	used    map[Stream]int
	// count bounds the lines kept per stream to DefaultMaxLines.
	count map[Stream]int
}

// NewOutput returns an empty Output keeping at most capBytes of each stream.
func NewOutput(capBytes int) *Output {
	if capBytes <= 0 {
		capBytes = DefaultOutputCap
	}
	return &Output{changed: make(chan struct{}), cap: capBytes, used: map[Stream]int{},
		count: map[Stream]int{}}
}

// ReadStream reads r to its end as what a program printed on stream s, the
// way Start reads a program's streams, and returns when r ends: for
// output a program printed elsewhere, and for the tests of what reads
// lines (pyenv's traceback reader).
func (o *Output) ReadStream(r io.Reader, s Stream) {
	o.openStream()
	o.read(r, s, o.closeStream)
}

// read copies lines from r into the output until r ends. It treats EIO (a
// pseudo-terminal whose other side closed) as the end of the stream. A
// line is stamped with the time its first byte was read, not the time its
// end came: a prompt printed without a newline (input("Message: ")) is
// stamped when it was printed, before the traceback that follows it on
// the other stream, even though the line only ends when the stream does.
func (o *Output) read(r io.Reader, s Stream, done func()) {
	defer done()
	buf := make([]byte, 4096)
	var partial []byte
	var since time.Time // when partial's first byte was read
	for {
		n, err := r.Read(buf)
		now := time.Now()
		chunk := buf[:n]
		for len(chunk) > 0 {
			if len(partial) == 0 {
				since = now
			}
			i := bytes.IndexByte(chunk, '\n')
			if i < 0 {
				partial = append(partial, chunk...)
				if len(partial) >= maxLineLen {
					o.add(s, partial, since)
					partial = partial[:0]
				}
				break
			}
			partial = append(partial, chunk[:i+1]...)
			chunk = chunk[i+1:]
			o.add(s, partial, since)
			partial = partial[:0]
		}
		if err != nil {
			if len(partial) > 0 {
				o.add(s, partial, since)
			}
			if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.EIO) && !errors.Is(err, io.ErrClosedPipe) {
				o.addMark(s, fmt.Sprintf("[netgrade: error reading %s: %v]", s, err))
			}
			return
		}
	}
}

// add appends a line read from stream s whose first byte was read at at.
func (o *Output) add(s Stream, b []byte, at time.Time) {
	n := len(b)
	for n > 0 && (b[n-1] == '\n' || b[n-1] == '\r') {
		n--
	}
	text := string(b[:n])
	o.mu.Lock()
	defer o.mu.Unlock()
	used := o.used[s]
	if used > o.cap || o.count[s] > DefaultMaxLines {
		return
	}
	o.used[s] = used + len(b)
	o.count[s]++
	if used+len(b) > o.cap {
		o.appendLocked(Line{Time: time.Now(), Stream: s, Text: fmt.Sprintf(TruncationMark, o.cap), Mark: true})
		return
	}
	if o.count[s] > DefaultMaxLines {
		o.appendLocked(Line{Time: time.Now(), Stream: s, Text: fmt.Sprintf(LineTruncationMark, DefaultMaxLines), Mark: true})
		return
	}
	o.appendLocked(Line{Time: at, Stream: s, Text: text})
}

func (o *Output) addMark(s Stream, text string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.appendLocked(Line{Time: time.Now(), Stream: s, Text: text, Mark: true})
}

func (o *Output) appendLocked(l Line) {
	o.lines = append(o.lines, l)
	close(o.changed)
	o.changed = make(chan struct{})
}

func (o *Output) openStream() {
	o.mu.Lock()
	o.open++
	o.mu.Unlock()
}

func (o *Output) closeStream() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.open--
	close(o.changed)
	o.changed = make(chan struct{})
}

// Lines returns a copy of every line read so far.
func (o *Output) Lines() []Line {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Line(nil), o.lines...)
}

// Len returns how many lines have been read so far; pass it to Wait to wait
// only for lines printed after this moment.
func (o *Output) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.lines)
}

// Since returns the lines from index from on.
func (o *Output) Since(from int) []Line {
	o.mu.Lock()
	defer o.mu.Unlock()
	if from >= len(o.lines) {
		return nil
	}
	return append([]Line(nil), o.lines[from:]...)
}

// Closed reports whether both streams have ended.
func (o *Output) Closed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.open <= 0
}

// Wait blocks until a line with index >= from satisfies match, and returns it
// with its index. It fails with ctx's error at the deadline, or with
// ErrOutputClosed once both streams ended without such a line.
func (o *Output) Wait(ctx context.Context, from int, match func(Line) bool) (Line, int, error) {
	for {
		o.mu.Lock()
		for i := from; i < len(o.lines); i++ {
			if !o.lines[i].Mark && match(o.lines[i]) {
				l := o.lines[i]
				o.mu.Unlock()
				return l, i, nil
			}
		}
		if len(o.lines) > from {
			from = len(o.lines)
		}
		closed := o.open <= 0
		ch := o.changed
		o.mu.Unlock()
		if closed {
			return Line{}, -1, ErrOutputClosed
		}
		select {
		case <-ctx.Done():
			return Line{}, -1, ctx.Err()
		case <-ch:
		}
	}
}

// WaitClosed blocks until both streams have ended or ctx is done.
func (o *Output) WaitClosed(ctx context.Context) error {
	for {
		o.mu.Lock()
		closed := o.open <= 0
		ch := o.changed
		o.mu.Unlock()
		if closed {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}
