package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/report"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/golden"
)

// sampleResult is a fixed result with every status, a diff, a transcript
// and hostile program output, for golden tests.
func sampleResult() report.Result {
	r := report.Result{
		Schema: report.Schema, Exercise: "udp-server", Title: "UDP server",
		Submission: "udp-server.py", Command: []string{"python3", "udp-server.py", "{port}"},
		StartedAt: time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC), DurationMS: 812,
		Sandbox: "process", Version: "test",
		Checks: []report.Check{
			{ID: "udp-server/starts", Title: "starts and binds the UDP port given on its command line", Category: report.Start, Status: report.Pass, MaxPoints: 2, DurationMS: 70},
			{
				ID: "udp-server/log-format", Title: "logs a datagram in the course's format", Category: report.Format,
				Requirement: "For each datagram it prints one line `[YYYY-MM-DD HH:MM:SS,mmm] client IP sent \"MSG\"`.",
				Status:      report.Fail, MaxPoints: 2, DurationMS: 95,
				Message:  "the IP address is padded with spaces (e.g. %-15s); the course prints it as it is",
				Expected: `[2026-11-02 09:30:00,123] client 127.0.0.1 sent "hello"`,
				Actual:   `[2026-11-02 09:30:00,123] client 127.0.0.1       sent hello`,
				Hint:     "Format the line as the course does.",
				Exit:     "stopped by netgrade with SIGINT",
				Transcript: []report.Event{
					{TimeMS: 0.4, Kind: report.EvStart, Data: "python3 udp-server.py 24001"},
					{TimeMS: 51.2, Kind: report.EvStdout, Data: "Started server on UDP/24001"},
					{TimeMS: 60.0, Kind: report.EvSend, Proto: "udp", From: "127.0.0.1:40000", To: "127.0.0.1:24001", Data: "hello", Bytes: 5},
					{TimeMS: 61.5, Kind: report.EvStderr, Data: "[2026-11-02 09:30:00,123] client 127.0.0.1       sent hello"},
					{TimeMS: 62.0, Kind: report.EvStdout, Data: "\x1b[2J\x1b[32m✔ all checks passed\r\x07 \u202eevil"},
				},
			},
			{ID: "udp-server/timestamp", Title: "stamps each datagram with its time of receipt", Category: report.Format, Status: report.Skip, MaxPoints: 1, SkippedBecause: "udp-server/starts", Message: "skipped: it needs udp-server/starts, which did not pass (fail)"},
			{ID: "udp-server/usage", Title: "without arguments, prints a usage message and exits non-zero", Category: report.Usage, Status: report.Error, MaxPoints: 1, Message: "netgrade could not run this check: no free port"},
		},
	}
	r.Tally()
	return r
}

func TestTextGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		color bool
	}{{"text-sample-plain.golden", false}, {"text-sample-color.golden", true}} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			assert.NilError(t, Text(&b, []report.Result{sampleResult()}, TextOptions{Color: tc.color}))
			golden.Assert(t, b.String(), tc.name)
		})
	}
}

// Without colour, the report holds no escape character at all, whatever
// the program printed; with colour, only netgrade's own SGR sequences.
func TestTextNeutralisesProgramOutput(t *testing.T) {
	var b bytes.Buffer
	assert.NilError(t, Text(&b, []report.Result{sampleResult()}, TextOptions{}))
	out := b.String()
	assert.Assert(t, !strings.ContainsAny(out, "\x1b\r\x07\u202e"), "raw control characters in:\n%s", out)
	assert.Assert(t, strings.Contains(out, `\x1b[2J\x1b[32m✔ all checks passed\x0d\x07 \u202eevil`))
	// The fake verdict is inside a transcript line, never a line of its own.
	for _, l := range strings.Split(out, "\n") {
		assert.Assert(t, !strings.HasPrefix(strings.TrimSpace(l), "✔ all checks passed"), l)
	}
}

func TestScoreLeavesErrorsUncharged(t *testing.T) {
	r := sampleResult()
	assert.Equal(t, r.Score, 2.0)
	assert.Equal(t, r.MaxScore, 5.0, "the errored check's point is not counted")
}

func TestJSONGolden(t *testing.T) {
	var b bytes.Buffer
	assert.NilError(t, JSON(&b, []report.Result{sampleResult()}))
	golden.Assert(t, b.String(), "result.json.golden")
	// The contract's fields are all there, under their names.
	var m map[string]any
	assert.NilError(t, json.Unmarshal(b.Bytes(), &m))
	for _, k := range []string{"schema", "exercise", "submission", "score", "max_score", "checks"} {
		_, ok := m[k]
		assert.Assert(t, ok, "field %s missing", k)
	}
	c := m["checks"].([]any)[1].(map[string]any)
	for _, k := range []string{"id", "title", "category", "status", "points", "max_points", "message", "expected", "actual", "transcript", "duration_ms"} {
		_, ok := c[k]
		assert.Assert(t, ok, "check field %s missing", k)
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
		assert.Equal(t, Terminal(tc.in, false), tc.want, "input %q", tc.in)
	}
	assert.Equal(t, Terminal("a\nb", true), "a\nb")
}
