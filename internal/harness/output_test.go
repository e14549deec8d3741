package harness

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOutputLineCap: a program printing empty lines without end (a loop on
// a closed socket) is cut at DefaultMaxLines lines of that stream, well
// under the byte cap, with a mark; the other stream is not affected.
func TestOutputLineCap(t *testing.T) {
	tests := []struct {
		name      string
		stdout    string
		wantLines int // lines kept from stdout, mark included
		wantMark  string
	}{
		{"under the cap", strings.Repeat("\n", 100), 100, ""},
		{"at the cap", strings.Repeat("x\n", DefaultMaxLines), DefaultMaxLines, ""},
		{"empty lines past the cap", strings.Repeat("\n", 3*DefaultMaxLines), DefaultMaxLines + 1, fmt.Sprintf(LineTruncationMark, DefaultMaxLines)},
		{"bytes past the cap first", strings.Repeat(strings.Repeat("y", 999)+"\n", 2000), DefaultOutputCap/1000 + 1, fmt.Sprintf(TruncationMark, DefaultOutputCap)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := NewOutput(0)
			o.openStream()
			o.openStream()
			o.read(strings.NewReader(tc.stdout), Stdout, o.closeStream)
			o.read(strings.NewReader("on stderr\n"), Stderr, o.closeStream)
			var out, errs []Line
			for _, l := range o.Lines() {
				if l.Stream == Stdout {
					out = append(out, l)
				} else {
					errs = append(errs, l)
				}
			}
			require.Equal(t, tc.wantLines, len(out), "lines kept from stdout")
			last := out[len(out)-1]
			assert.Equal(t, tc.wantMark != "", last.Mark)
			if tc.wantMark != "" {
				assert.Equal(t, tc.wantMark, last.Text)
			}
			require.Equal(t, 1, len(errs), "lines kept from stderr")
			assert.Equal(t, "on stderr", errs[0].Text)
		})
	}
}

// TestOutputLineTimes: a line is stamped when its first byte was read. A
// prompt printed without a newline (input("Message: ")) comes before the
// traceback the program then writes on stderr, although the prompt's line
// only ends when its stream closes.
func TestOutputLineTimes(t *testing.T) {
	// The two streams are read in a fixed order: the prompt, then (once
	// its stamp is taken, i.e. stdout is read again) the traceback, then
	// (once the traceback's stamp is taken) the rest of stdout.
	promptStamped, errDone := make(chan struct{}), make(chan struct{})
	stdout := &scriptedReader{steps: []readStep{
		{data: "Message: "},
		{before: func() { close(promptStamped); <-errDone }, data: "the rest of the prompt's line\nsecond "},
		{data: "line\n"},
	}}
	stderr := &scriptedReader{steps: []readStep{
		{before: func() { <-promptStamped }, data: "Traceback (most recent call last):\nEOFError: EOF when reading a line\n"},
		{before: func() { close(errDone) }},
	}}
	o := NewOutput(0)
	o.openStream()
	o.openStream()
	go o.read(stdout, Stdout, o.closeStream)
	go o.read(stderr, Stderr, o.closeStream)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, o.WaitClosed(ctx))

	at := map[string]time.Time{}
	for _, l := range o.Lines() {
		at[l.Text] = l.Time
	}
	prompt := at["Message: the rest of the prompt's line"]
	require.False(t, prompt.IsZero(), "lines: %v", o.Lines())
	assert.False(t, prompt.After(at["Traceback (most recent call last):"]), "the prompt was printed before the traceback")
	assert.False(t, at["EOFError: EOF when reading a line"].After(at["second line"]))
}

// scriptedReader returns its steps' data, one step a Read, each after the
// step's before function returned; then io.EOF.
type scriptedReader struct {
	steps []readStep
}

type readStep struct {
	before func()
	data   string
}

func (r *scriptedReader) Read(p []byte) (int, error) {
	if len(r.steps) == 0 {
		return 0, io.EOF
	}
	st := r.steps[0]
	r.steps = r.steps[1:]
	if st.before != nil {
		st.before()
	}
	if st.data == "" {
		return 0, io.EOF
	}
	return copy(p, st.data), nil
}
