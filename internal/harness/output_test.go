package harness

import (
	"fmt"
	"strings"
	"testing"

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
