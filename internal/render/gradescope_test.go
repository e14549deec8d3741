package render

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// gsSpec is results.json with exactly the fields Gradescope's autograder
// specification documents (top level and test case), each with its
// documented type: decoding with unknown fields disallowed proves that
// netgrade writes no field Gradescope does not know.
type gsSpec struct {
	Score            *float64         `json:"score"`
	ExecutionTime    *float64         `json:"execution_time"`
	Output           *string          `json:"output"`
	OutputFormat     *string          `json:"output_format"`
	TestOutputFormat *string          `json:"test_output_format"`
	TestNameFormat   *string          `json:"test_name_format"`
	Visibility       *string          `json:"visibility"`
	StdoutVisibility *string          `json:"stdout_visibility"`
	ExtraData        map[string]any   `json:"extra_data"`
	Tests            []gsSpecTest     `json:"tests"`
	Leaderboard      []map[string]any `json:"leaderboard"`
}

type gsSpecTest struct {
	Score        *float64       `json:"score"`
	MaxScore     *float64       `json:"max_score"`
	Status       *string        `json:"status"`
	Name         *string        `json:"name"`
	NameFormat   *string        `json:"name_format"`
	Number       *string        `json:"number"`
	Output       *string        `json:"output"`
	OutputFormat *string        `json:"output_format"`
	Tags         []string       `json:"tags"`
	Visibility   *string        `json:"visibility"`
	ExtraData    map[string]any `json:"extra_data"`
}

// The documented values.
var (
	gsVisibilities  = []string{"hidden", "after_due_date", "after_published", "visible"}
	gsOutputFormats = []string{"text", "html", "simple_format", "md", "ansi"}
	gsStatuses      = []string{"passed", "failed"}
)

// checkGradescopeSpec decodes results.json against the documented fields
// and values and returns it as netgrade's own type.
func checkGradescopeSpec(t *testing.T, data []byte) GradescopeResults {
	t.Helper()
	var s gsSpec
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&s))
	require.NotNil(t, s.Score, "score is required when the tests carry their own (the top level overrides)")
	require.True(t, s.ExecutionTime != nil && *s.ExecutionTime >= 0, "s.ExecutionTime != nil && *s.ExecutionTime >= 0")
	require.True(t, s.StdoutVisibility != nil && slices.Contains(gsVisibilities, *s.StdoutVisibility), "s.StdoutVisibility != nil && slices.Contains(gsVisibilities, *s.StdoutVisibility)")
	if s.OutputFormat != nil {
		require.Contains(t, gsOutputFormats, *s.OutputFormat)
	}
	numbers := map[string]bool{}
	for _, tc := range s.Tests {
		require.True(t, tc.Name != nil && *tc.Name != "", "tc.Name != nil && *tc.Name != \"\"")
		require.True(t, tc.Number != nil && !numbers[*tc.Number], "numbers are unique")
		numbers[*tc.Number] = true
		require.True(t, tc.Score != nil && tc.MaxScore != nil, "tc.Score != nil && tc.MaxScore != nil")
		require.True(t, *tc.Score >= 0 && *tc.Score <= *tc.MaxScore || *tc.MaxScore == 0 && *tc.Score == 0, "*tc.Score >= 0 && *tc.Score <= *tc.MaxScore || *tc.MaxScore == 0 && *tc.Score == 0")
		require.True(t, tc.Status != nil && slices.Contains(gsStatuses, *tc.Status), "tc.Status != nil && slices.Contains(gsStatuses, *tc.Status)")
		require.True(t, tc.OutputFormat != nil && *tc.OutputFormat == "text", "plain text: nothing in it is markup")
		require.True(t, tc.Visibility != nil && slices.Contains(gsVisibilities, *tc.Visibility), "tc.Visibility != nil && slices.Contains(gsVisibilities, *tc.Visibility)")
		require.NotEmpty(t, tc.Tags)
		if *tc.Status == "passed" {
			require.Equal(t, *tc.MaxScore, *tc.Score)
		}
	}
	var g GradescopeResults
	require.NoError(t, json.Unmarshal(data, &g))
	return g
}

func TestGradescopeSpec(t *testing.T) {
	rs := fixedResults()
	var buf bytes.Buffer
	require.NoError(t, Gradescope(&buf, rs))
	g := checkGradescopeSpec(t, buf.Bytes())
	// One test per check, numbered exercise.check, with the engine's points.
	require.Equal(t, 11, len(g.Tests))
	require.Equal(t, "1.1", g.Tests[0].Number)
	require.Equal(t, "2.1", g.Tests[6].Number)
	sum := 0.0
	for i, c := range slices.Concat(rs[0].Checks, rs[1].Checks, rs[2].Checks) {
		tc := g.Tests[i]
		require.Equal(t, c.ID+": "+c.Title, tc.Name)
		require.Equal(t, c.Points, tc.Score)
		sum += tc.Score
	}
	require.Equal(t, sum, g.Score)
	require.Equal(t, rs[0].Score+rs[1].Score+rs[2].Score, g.Score)
	// A netgrade error is never charged: failed, with nothing to earn.
	require.Equal(t, "failed", g.Tests[5].Status)
	require.Equal(t, 0.0, g.Tests[5].MaxScore)
	// A skip is failed with its points to earn, as in the engine's score.
	require.Equal(t, 1.0, g.Tests[4].MaxScore)
	require.Equal(t, []string{"udp-server", "format"}, g.Tests[1].Tags)
	require.Equal(t, "hidden", g.StdoutVisibility)
}
