package render

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"gotest.tools/v3/assert"
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
	assert.NilError(t, dec.Decode(&s))
	assert.Assert(t, s.Score != nil, "score is required when the tests carry their own (the top level overrides)")
	assert.Assert(t, s.ExecutionTime != nil && *s.ExecutionTime >= 0)
	assert.Assert(t, s.StdoutVisibility != nil && slices.Contains(gsVisibilities, *s.StdoutVisibility))
	if s.OutputFormat != nil {
		assert.Assert(t, slices.Contains(gsOutputFormats, *s.OutputFormat))
	}
	numbers := map[string]bool{}
	for _, tc := range s.Tests {
		assert.Assert(t, tc.Name != nil && *tc.Name != "")
		assert.Assert(t, tc.Number != nil && !numbers[*tc.Number], "numbers are unique")
		numbers[*tc.Number] = true
		assert.Assert(t, tc.Score != nil && tc.MaxScore != nil)
		assert.Assert(t, *tc.Score >= 0 && *tc.Score <= *tc.MaxScore || *tc.MaxScore == 0 && *tc.Score == 0)
		assert.Assert(t, tc.Status != nil && slices.Contains(gsStatuses, *tc.Status))
		assert.Assert(t, tc.OutputFormat != nil && *tc.OutputFormat == "md")
		assert.Assert(t, tc.Visibility != nil && slices.Contains(gsVisibilities, *tc.Visibility))
		assert.Assert(t, len(tc.Tags) > 0)
		if *tc.Status == "passed" {
			assert.Equal(t, *tc.Score, *tc.MaxScore)
		}
	}
	var g GradescopeResults
	assert.NilError(t, json.Unmarshal(data, &g))
	return g
}

func TestGradescopeSpec(t *testing.T) {
	rs := fixedResults()
	var buf bytes.Buffer
	assert.NilError(t, Gradescope(&buf, rs))
	g := checkGradescopeSpec(t, buf.Bytes())
	// One test per check, numbered exercise.check, with the engine's points.
	assert.Equal(t, len(g.Tests), 11)
	assert.Equal(t, g.Tests[0].Number, "1.1")
	assert.Equal(t, g.Tests[6].Number, "2.1")
	sum := 0.0
	for i, c := range slices.Concat(rs[0].Checks, rs[1].Checks, rs[2].Checks) {
		tc := g.Tests[i]
		assert.Equal(t, tc.Name, c.ID+": "+c.Title)
		assert.Equal(t, tc.Score, c.Points)
		sum += tc.Score
	}
	assert.Equal(t, g.Score, sum)
	assert.Equal(t, g.Score, rs[0].Score+rs[1].Score+rs[2].Score)
	// A netgrade error is never charged: failed, with nothing to earn.
	assert.Equal(t, g.Tests[5].Status, "failed")
	assert.Equal(t, g.Tests[5].MaxScore, 0.0)
	// A skip is failed with its points to earn, as in the engine's score.
	assert.Equal(t, g.Tests[4].MaxScore, 1.0)
	assert.DeepEqual(t, g.Tests[1].Tags, []string{"udp-server", "format"})
	assert.Equal(t, g.StdoutVisibility, "hidden")
}
