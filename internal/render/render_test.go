package render

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/netgrade/netgrade/internal/report"
	"github.com/stretchr/testify/require"
	"gotest.tools/v3/golden"
)

// formats are every renderer, by the name of its golden file.
var formats = []struct {
	name   string
	golden string
	render func(w io.Writer, rs []report.Result) error
}{
	{"text", "text.golden", func(w io.Writer, rs []report.Result) error { return Text(w, rs, TextOptions{}) }},
	{"text-student", "text-student.golden", func(w io.Writer, rs []report.Result) error {
		return Text(w, rs, TextOptions{Student: true})
	}},
	{"text-color", "text-color.golden", func(w io.Writer, rs []report.Result) error {
		return Text(w, rs, TextOptions{Color: true, Student: true})
	}},
	{"json", "json.golden", JSON},
	{"junit", "junit.golden", JUnit},
	{"gradescope", "gradescope.golden", Gradescope},
	{"markdown", "markdown.golden", Markdown},
	{"html", "html.golden", HTML},
	{"github-annotations", "annotations.golden", GitHubAnnotations},
}

// TestGolden renders the fixed results in every format and compares with
// testdata/*.golden (go test ./internal/render -update rewrites them).
func TestGolden(t *testing.T) {
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, f.render(&buf, fixedResults()))
			golden.Assert(t, buf.String(), f.golden)
		})
	}
}

func TestGoldenSummary(t *testing.T) {
	rs := fixedResults()
	rows := []SummaryRow{
		{Exercise: "udp-server", File: "udp-server.py", Result: &rs[0]},
		{Exercise: "udp-client", File: "udp-client.py", Result: &rs[1]},
		{Exercise: "tcp-server", File: "tcp-server.py", Note: "missing: no file tcp-server.py", Missing: true},
		{Exercise: "tcp-tickets", File: "tcp-tickets.py", Note: "found, but this netgrade has no grader for tcp-tickets"},
	}
	var buf bytes.Buffer
	require.NoError(t, Summary(&buf, rows, TextOptions{Student: true}))
	golden.Assert(t, buf.String(), "summary.golden")
	// The hidden failing check is not named in a student's summary.
	require.NotContains(t, buf.String(), "timestamp")
}

// TestRenderersComputeNoScore shows that every format shows the engine's
// score: a result whose score was set by hand (not by Tally) is reported
// with exactly that score.
func TestRenderersComputeNoScore(t *testing.T) {
	rs := fixedResults()[1:2]
	rs[0].Score, rs[0].MaxScore = 1.25, 7.5
	for _, f := range formats {
		if f.name == "github-annotations" {
			continue
		}
		var buf bytes.Buffer
		require.NoError(t, f.render(&buf, rs))
		out := buf.String()
		switch f.name {
		case "json":
			var r report.Result
			require.NoError(t, json.Unmarshal(buf.Bytes(), &r))
			require.Equal(t, 1.25, r.Score)
			require.Equal(t, 7.5, r.MaxScore)
		case "gradescope":
			var g GradescopeResults
			require.NoError(t, json.Unmarshal(buf.Bytes(), &g))
			require.Equal(t, 1.25, g.Score)
		case "junit":
			require.Contains(t, out, `<property name="score" value="1.25">`)
			require.Contains(t, out, `<property name="max_score" value="7.50">`)
		default:
			require.Contains(t, out, "1.25/7.50", f.name)
		}
	}
}

// TestHiddenChecksNeverReachStudents shows that the name, message and
// transcript of a check the course hides appear in no student-facing
// format, while instructor formats keep them and every format keeps its
// points.
func TestHiddenChecksNeverReachStudents(t *testing.T) {
	secret := []string{"udp-server/timestamp", "stamps each datagram", "logged with the same time", "secret transcript", "tick"}
	student := map[string]bool{"text-student": true, "text-color": true, "markdown": true, "html": true, "github-annotations": true}
	for _, f := range formats {
		var buf bytes.Buffer
		require.NoError(t, f.render(&buf, fixedResults()))
		out := buf.String()
		for _, s := range secret {
			if student[f.name] {
				require.NotContains(t, out, s, "%s shows %q of a hidden check", f.name, s)
			} else {
				require.Contains(t, out, s, f.name)
			}
		}
		if student[f.name] && f.name != "github-annotations" {
			require.Contains(t, out, "udp-server/hidden-1", f.name)
		}
	}
	// Gradescope hides the check itself: the visibility goes with it.
	var buf bytes.Buffer
	require.NoError(t, Gradescope(&buf, fixedResults()))
	var g GradescopeResults
	require.NoError(t, json.Unmarshal(buf.Bytes(), &g))
	require.Equal(t, "udp-server/timestamp: stamps each datagram with its time of receipt", g.Tests[2].Name)
	require.Equal(t, "hidden", g.Tests[2].Visibility)
	require.Equal(t, "visible", g.Tests[1].Visibility)
}

func TestForStudentsLeavesInputAlone(t *testing.T) {
	rs := fixedResults()
	red := ForStudents(rs)
	require.Equal(t, "udp-server/timestamp", rs[0].Checks[2].ID)
	require.Equal(t, "udp-server/hidden-1", red[0].Checks[2].ID)
	require.Equal(t, report.Fail, red[0].Checks[2].Status)
	require.Equal(t, 1.0, red[0].Checks[2].MaxPoints)
	require.Equal(t, "udp-server/hidden-1", red[0].Checks[4].SkippedBecause)
	require.Equal(t, "skipped: it needs udp-server/hidden-1, which did not pass (fail)", red[0].Checks[4].Message)
	require.Equal(t, rs[0].Score, red[0].Score)
	require.Equal(t, rs[0].MaxScore, red[0].MaxScore)
}

func TestLogCommands(t *testing.T) {
	tests := []struct {
		in   string
		want []int
	}{
		{"plain text", nil},
		{"::error::x", []int{0}},
		{"  \t::warning file=a::x", []int{3}},
		{"a ::error::x", nil},
		{"line\n::error::x\r::debug::y", []int{5, 16}},
		{"x ##[error]y ##[group]z", []int{3, 14}},
		{"###[x", []int{2}},
		{":x", nil},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, LogCommands(tc.in))
	}
	require.Equal(t, `\x3a:error::x`, Terminal("::error::x", false))
	require.Equal(t, `a #\x23[error]b`, Terminal("a ##[error]b", false))
	require.Equal(t, "ok\n  \\x3a:x::y", Terminal("ok\n  ::x::y", true))
}
