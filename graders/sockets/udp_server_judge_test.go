package sockets

import (
	"errors"
	"testing"

	"github.com/netgrade/netgrade/graders"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// firstDiff returns the index of the first rune where a and b differ.
func firstDiff(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	i := 0
	for i < len(ra) && i < len(rb) && ra[i] == rb[i] {
		i++
	}
	return i
}

// TestJudgeLogTimeShape: a timestamp in the wrong shape gets an expected
// line in the course's shape made from the student's own time, so that the
// first difference is where the shape differs, and a message and hint that
// name the difference.
func TestJudgeLogTimeShape(t *testing.T) {
	tests := []struct {
		name, line, want, diffAt, message, hint string
	}{
		{"microseconds", `[2026-03-14 10:26:53,069930] client 127.0.0.1 sent "hello"`,
			`[2026-03-14 10:26:53,069] client 127.0.0.1 sent "hello"`, `930]`, ",069930 has 6 digits", "`,069930` has 6 digits"},
		{"a dot", `[2026-03-14 10:26:53.069] client 127.0.0.1 sent "hello"`,
			`[2026-03-14 10:26:53,069] client 127.0.0.1 sent "hello"`, `.069]`, `follow "."`, "%(asctime)s"},
		{"no milliseconds", `[2026-03-14 10:26:53] client 127.0.0.1 sent "hello"`,
			`[2026-03-14 10:26:53,mmm] client 127.0.0.1 sent "hello"`, `] client`, "no milliseconds", "%(asctime)s"},
		{"a T", `[2026-03-14T10:26:53,069] client 127.0.0.1 sent "hello"`,
			`[2026-03-14 10:26:53,069] client 127.0.0.1 sent "hello"`, `T10`, `separated by "T"`, "%(asctime)s"},
	}
	gt := graders.NewT(t.Context(), UDPServer(), graders.Settings{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f *graders.Failure
			require.True(t, errors.As(judgeLog(gt, tc.line, "hello"), &f))
			assert.Equal(t, tc.want, f.Expected)
			assert.Equal(t, tc.line, f.Actual)
			assert.Equal(t, tc.diffAt, tc.line[firstDiff(tc.want, tc.line):][:len(tc.diffAt)], "the first difference")
			assert.Contains(t, f.Message, tc.message)
			assert.Contains(t, f.Hint, tc.hint)
		})
	}
	require.NoError(t, judgeLog(gt, `[2026-03-14 10:26:53,069] client 127.0.0.1 sent "hello"`, "hello"))
}

// TestBytesObjectDiagnosis: a line showing a bytes object is one mistake,
// charged once: log-format and verbatim judge the format and the message's
// characters and tolerate it; utf8 fails it, saying to decode.
func TestBytesObjectDiagnosis(t *testing.T) {
	gt := graders.NewT(t.Context(), UDPServer(), graders.Settings{})
	require.NoError(t, judgeLog(gt, `[2026-03-14 10:26:53,069] client 127.0.0.1 sent "b'hello'"`, "hello"), "log-format")
	require.NoError(t, judgeHolds(`client 127.0.0.1 sent "b'50% off: %Y-%m-%d %s {0} \\n'"`, probeVerbatim, true), "verbatim")
	var f *graders.Failure
	err := judgeHolds(`[2026-03-14 10:26:53,069] client 127.0.0.1 sent "b'c\xc3\xa1c b\xe1\xba\xa1n'"`, "các bạn", false)
	require.True(t, errors.As(err, &f), "utf8")
	assert.Contains(t, f.Message, "bytes object")
	assert.Contains(t, f.Hint, "decode('utf-8')")
	assert.NotContains(t, f.Hint, "format string")
	require.NoError(t, judgeHolds(`client 127.0.0.1 sent "`+probeVerbatim+`"`, probeVerbatim, true))
}
