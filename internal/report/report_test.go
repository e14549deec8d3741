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
}
