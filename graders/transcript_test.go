package graders

import (
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/harness"
	"github.com/stretchr/testify/assert"
)

// TestLineTimeNeverAfterTheExit: a line read after the program's exit was
// seen (the reader of a busy machine is late) is placed at the exit, so
// that a traceback comes before the exit it caused; a running program's
// lines keep the time they were read.
func TestLineTimeNeverAfterTheExit(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	for _, tc := range []struct {
		name string
		line int
		exit harness.ExitStatus
		want time.Time
	}{
		{name: "read before the exit", line: 100, exit: harness.ExitStatus{Exited: true, Time: at(300)}, want: at(100)},
		{name: "read after the exit", line: 340, exit: harness.ExitStatus{Exited: true, Time: at(300)}, want: at(300)},
		{name: "still running", line: 340, exit: harness.ExitStatus{}, want: at(340)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, lineTime(harness.Line{Stream: harness.Stderr, Text: "Traceback", Time: at(tc.line)}, tc.exit))
		})
	}
}
