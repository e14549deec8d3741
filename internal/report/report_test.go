package report_test

import (
	"testing"

	"github.com/netgrade/netgrade/internal/report"
	"github.com/stretchr/testify/require"
)

// TestResultQueries checks the model's questions about a result: which
// checks have a status, how many, whether all passed, and the tally, in
// which an errored check is never charged.
func TestResultQueries(t *testing.T) {
	mixed := report.Result{Checks: []report.Check{
		{ID: "x/b", Status: report.Fail, MaxPoints: 2},
		{ID: "x/a", Status: report.Fail, MaxPoints: 1},
		{ID: "x/c", Status: report.Pass, MaxPoints: 3},
		{ID: "x/d", Status: report.Error, MaxPoints: 5},
		{ID: "x/e", Status: report.Skip, MaxPoints: 1},
	}}
	allPass := report.Result{Checks: []report.Check{{ID: "y/a", Status: report.Pass, MaxPoints: 1}}}
	tests := []struct {
		name      string
		r         report.Result
		status    report.Status
		ids       []string
		passed    bool
		hasErrors bool
	}{
		{"failed checks, sorted", mixed, report.Fail, []string{"x/a", "x/b"}, false, true},
		{"errored checks", mixed, report.Error, []string{"x/d"}, false, true},
		{"none with the status is nil", mixed, report.Status("nope"), nil, false, true},
		{"all pass", allPass, report.Fail, nil, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.ids, tc.r.IDs(tc.status))
			require.Equal(t, len(tc.ids), tc.r.Count(tc.status))
			require.Equal(t, tc.passed, tc.r.Passed())
			require.Equal(t, tc.hasErrors, tc.r.HasErrors())
		})
	}
	mixed.Tally()
	require.Equal(t, 3.0, mixed.Score)
	require.Equal(t, 7.0, mixed.MaxScore, "points of every check but the errored one")

	// A check not judged is left out of the score as an error is, and does
	// not keep the result from passing; a plain skip counts.
	unjudged := report.Result{Checks: []report.Check{
		{ID: "z/a", Status: report.Pass, MaxPoints: 2},
		{ID: "z/b", Status: report.Skip, NotJudged: true, MaxPoints: 3},
	}}
	unjudged.Tally()
	require.Equal(t, 2.0, unjudged.Score)
	require.Equal(t, 2.0, unjudged.MaxScore)
	require.True(t, unjudged.Passed())
	require.Equal(t, 1, unjudged.CountUnjudged())
	unjudged.Checks[1].NotJudged = false
	unjudged.Tally()
	require.Equal(t, 5.0, unjudged.MaxScore, "a plain skip counts in max_score")
	require.False(t, unjudged.Passed())
}

// TestPrintable checks the one encoder of bytes for a report: valid UTF-8
// is kept as it is, every other byte becomes \xNN, so a report never holds
// invalid UTF-8 and a student still sees which byte was wrong.
func TestPrintable(t *testing.T) {
	cases := []struct{ in, want string }{
		{"các bạn", "các bạn"},
		{"caf\xe9 \xff", `caf\xe9 \xff`},
		{"", ""},
	}
	for _, c := range cases {
		require.Equal(t, c.want, report.Printable([]byte(c.in)), "%q", c.in)
	}
}
