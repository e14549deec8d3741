package render

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/netgrade/netgrade/internal/report"
)

// GradescopeResults is results.json as Gradescope's autograder
// specification documents it (https://gradescope-autograders.readthedocs.io/en/latest/specs/).
type GradescopeResults struct {
	// Score is the submission's score; it overrides the sum of the tests.
	Score float64 `json:"score"`
	// ExecutionTime is the grading's duration in seconds.
	ExecutionTime int    `json:"execution_time"`
	Output        string `json:"output,omitempty"`
	OutputFormat  string `json:"output_format,omitempty"`
	// StdoutVisibility keeps what netgrade logs for the instructor away
	// from students.
	StdoutVisibility string           `json:"stdout_visibility"`
	Tests            []GradescopeTest `json:"tests"`
}

// GradescopeTest is one test of results.json: one check.
type GradescopeTest struct {
	Name         string   `json:"name"`
	Number       string   `json:"number"`
	Score        float64  `json:"score"`
	MaxScore     float64  `json:"max_score"`
	Status       string   `json:"status"`
	Output       string   `json:"output,omitempty"`
	OutputFormat string   `json:"output_format"`
	Visibility   string   `json:"visibility"`
	Tags         []string `json:"tags"`
}

// Gradescope writes results.json: one test per check, numbered
// EXERCISE.CHECK in report order, with the check's points, a status of
// passed or failed, the failure explained in plain text (Gradescope's
// "text" output format: nothing in it is read as markup, so nothing needs
// escaping), the check's visibility (Gradescope hides hidden and
// after_due_date checks from the student itself) and the exercise and
// category as tags. A check netgrade could not run is failed with a
// maximum of 0: it is never charged to the student, as in the engine's
// score. The top-level score is the engine's.
func Gradescope(w io.Writer, results []report.Result) error {
	results = readable(results)
	score, _ := report.Total(results)
	doc := GradescopeResults{
		Score:            score,
		OutputFormat:     "text",
		StdoutVisibility: "hidden",
		Tests:            []GradescopeTest{},
	}
	var ms int64
	var summary strings.Builder
	for i, r := range results {
		ms += r.DurationMS
		state := Num(r.Score) + "/" + Num(r.MaxScore)
		if r.Missing {
			state = "not handed in (" + state + ")"
		}
		fmt.Fprintf(&summary, "%s (%s): %s\n", Terminal(r.Exercise, false), Terminal(r.Submission, false), state)
		same := sameCause(r)
		for j, c := range r.Checks {
			t := GradescopeTest{
				Name:         c.ID + ": " + c.Title,
				Number:       fmt.Sprintf("%d.%d", i+1, j+1),
				Score:        c.Points,
				MaxScore:     c.MaxPoints,
				Status:       "failed",
				OutputFormat: "text",
				Visibility:   string(report.Visible),
				Tags:         []string{r.Exercise, string(c.Category)},
			}
			if c.Visibility != "" {
				t.Visibility = string(c.Visibility)
			}
			switch c.Status {
			case report.Pass:
				t.Status = "passed"
				t.Output = mdNotes(c)
			case report.Error:
				t.MaxScore = 0
				t.Output = Terminal(c.Message, false) + "\n\nThis is netgrade's own error; it is not charged to you. Tell your instructor."
			case report.Skip:
				t.Output = Terminal(c.Message, false) + "\n"
				if c.Unjudged() {
					// Left out of the score, as an error is.
					t.MaxScore = 0
					t.Output += "\nThis check could not judge your program: it is left out of your score.\n"
				}
			default:
				t.Output = Terminal(failureBody(c, same[c.ID]), true)
				if script := tryScript(c.Try); script != "" {
					t.Output += "\n" + tryTitle + ":\n" + Terminal(script, true)
				}
			}
			doc.Tests = append(doc.Tests, t)
		}
	}
	doc.ExecutionTime = int(math.Ceil(float64(ms) / 1000))
	doc.Output = "Graded by netgrade.\n\n" + summary.String()
	return writeJSON(w, doc)
}
