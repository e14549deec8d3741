package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/internal/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// unjudgedResult is a result with one passed check and one that could not
// judge the program: left out of the score.
func unjudgedResult() report.Result {
	r := report.Result{Schema: report.Schema, Exercise: "tcp-tickets", Submission: "seller.py", Checks: []report.Check{
		{ID: "tcp-tickets/ticket", Title: "sends a ticket", Category: report.Protocol, Status: report.Pass, MaxPoints: 2},
		{ID: "tcp-tickets/at-once", Title: "serves clients at the same time", Category: report.Concurrency, Status: report.Skip, NotJudged: true, MaxPoints: 2,
			Message: "not judged: a ticket takes 2 ms, under 300ms"},
	}}
	r.Tally()
	return r
}

// TestUnjudgedInEveryFormat: a check that could not judge the program is
// named as not judged, with its reason, in every format, and no format
// counts its points: the score is 2/2, never 2/4 nor 4/4.
func TestUnjudgedInEveryFormat(t *testing.T) {
	r := unjudgedResult()
	require.Equal(t, 2.0, r.Score)
	require.Equal(t, 2.0, r.MaxScore, "a check not judged is left out of max_score")
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, f.render(&buf, []report.Result{r}))
			out := buf.String()
			switch f.name {
			case "github-annotations":
				assert.NotContains(t, out, "at-once", "a check not judged is no annotation: nothing to fix")
				return
			case "json":
				var got report.Result
				require.NoError(t, json.Unmarshal(buf.Bytes(), &got))
				assert.Equal(t, report.Skip, got.Checks[1].Status, "the status stays skip: readers of the four statuses keep working")
				assert.True(t, got.Checks[1].NotJudged)
				assert.Contains(t, out, `"not_judged": true`)
				assert.Equal(t, 2.0, got.MaxScore)
				return
			case "gradescope":
				var g GradescopeResults
				require.NoError(t, json.Unmarshal(buf.Bytes(), &g))
				assert.Equal(t, 2.0, g.Score)
				require.Len(t, g.Tests, 2)
				assert.Zero(t, g.Tests[1].MaxScore, "left out of Gradescope's score")
				assert.Contains(t, g.Tests[1].Output, "left out of your score")
				return
			}
			assert.Contains(t, out, "not judged", f.name)
			assert.Contains(t, out, "300ms", "%s: the reason is shown", f.name)
			assert.Contains(t, out, "left out of the score", f.name)
			if strings.HasPrefix(f.name, "text") || f.name == "markdown" || f.name == "html" {
				assert.Contains(t, out, "2/2", f.name)
				assert.NotContains(t, out, "2/4", f.name)
			}
		})
	}
}

// TestUnjudgedSummary: the summary of several exercises counts a result
// whose judged checks all pass as passing, and says what was not judged.
func TestUnjudgedSummary(t *testing.T) {
	r := unjudgedResult()
	var buf bytes.Buffer
	require.NoError(t, Summary(&buf, []SummaryRow{{Exercise: "tcp-tickets", File: "seller.py", Result: &r}}, TextOptions{}))
	assert.Contains(t, buf.String(), "1 not judged, left out of the score")
	assert.Contains(t, buf.String(), "1 of 1 graded exercises pass; total 2/2.")
}
