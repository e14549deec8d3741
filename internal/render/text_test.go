package render

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestJSONContract checks that the result JSON holds the documented
// contract's fields under their names (json.golden holds the whole text).
func TestJSONContract(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, JSON(&b, fixedResults()[:1]))
	var m map[string]any
	require.NoError(t, json.Unmarshal(b.Bytes(), &m))
	for _, k := range []string{"schema", "exercise", "submission", "score", "max_score", "checks"} {
		_, ok := m[k]
		require.True(t, ok, "field %s missing", k)
	}
	c := m["checks"].([]any)[1].(map[string]any)
	for _, k := range []string{"id", "title", "category", "status", "points", "max_points", "message", "expected", "actual", "transcript", "duration_ms"} {
		_, ok := c[k]
		require.True(t, ok, "check field %s missing", k)
	}
}

func TestTerminal(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text, các bạn", "plain text, các bạn"},
		{"tab\tkept", "tab\tkept"},
		{"\x1b[31mred", `\x1b[31mred`},
		{"over\rwrite", `over\x0dwrite`},
		{"nul\x00", `nul\x00`},
		{"bidi \u202e override", `bidi \u202e override`},
		{"c1 \u009b", `c1 \u009b`},
		{"bad utf8 \xff", `bad utf8 \xff`},
		{"line\nbreak", `line\x0abreak`},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, Terminal(tc.in, false), "input %q", tc.in)
	}
	require.Equal(t, "a\nb", Terminal("a\nb", true))
}

// TestFailuresOnly: with FailuresOnly an exercise whose checks all pass
// takes one line; a failing one is reported in full.
func TestFailuresOnly(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, Text(&b, fixedResults(), TextOptions{FailuresOnly: true}))
	out := b.String()
	require.Contains(t, out, "✔ udp-client — UDP client  udp-client.py  3/3: all 2 checks pass\n")
	require.NotContains(t, out, "udp-client/sends", "a passing exercise's checks are not listed")
	require.Contains(t, out, "✘ udp-server/log-format — logs a datagram as `client IP sent \"MSG\"`", "a failing one is in full")
}
