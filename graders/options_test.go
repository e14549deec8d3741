package graders

import (
	"context"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/report"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// optionsExercise has checks that need no program: one passes, one fails,
// one waits until its deadline.
func optionsExercise() *Exercise {
	return &Exercise{
		ID: "opt", Title: "options",
		Checks: []*Check{
			{ID: "opt/pass", Title: "passes", Category: report.Start, Points: 2,
				Run: func(ctx context.Context, t *T) error { return nil }},
			{ID: "opt/fail", Title: "fails", Category: report.Format, Points: 1, Needs: []string{"opt/pass"},
				Run: func(ctx context.Context, t *T) error { return Failf("wrong").Want("a", "b") }},
			{ID: "opt/slow", Title: "waits", Category: report.Lifecycle, Points: 1, Timeout: 40 * time.Millisecond,
				Run: func(ctx context.Context, t *T) error { <-ctx.Done(); return ctx.Err() }},
		},
	}
}

func TestOptionsReachTheReport(t *testing.T) {
	e := optionsExercise()
	res := e.Grade(context.Background(), Submission{Name: "s", File: "dir/s.py"}, Options{
		Points:       map[string]float64{"opt/fail": 5},
		Visibility:   map[string]report.Visibility{"opt/fail": report.Hidden},
		Disabled:     []string{"opt/pass"},
		Timeouts:     map[string]time.Duration{"opt/slow": 30 * time.Millisecond},
		TimeoutScale: 2,
	})
	assert.Equal(t, res.File, "dir/s.py")
	assert.Equal(t, len(res.Checks), 2, "the disabled check is not run")
	fail, slow := res.Checks[0], res.Checks[1]
	assert.Equal(t, fail.Status, report.Fail, "a disabled prerequisite does not skip")
	assert.Equal(t, fail.MaxPoints, 5.0)
	assert.Equal(t, fail.Visibility, report.Hidden)
	assert.Equal(t, slow.Visibility, report.Visibility(""))
	// The course's timeout replaces the check's, scaled.
	assert.Equal(t, slow.Status, report.Fail)
	assert.Assert(t, is.Contains(slow.Message, "within 60ms"))
	assert.Equal(t, res.MaxScore, 6.0)
}

func TestTimeoutScale(t *testing.T) {
	tt := &T{opt: Options{TimeoutScale: 2.5}}
	assert.Equal(t, tt.Timeout(2*time.Second), 5*time.Second)
	tt = &T{opt: Options{}}
	assert.Equal(t, tt.Timeout(2*time.Second), 2*time.Second)
}

func TestNotSubmitted(t *testing.T) {
	e := optionsExercise()
	res := e.NotSubmitted(Submission{Name: "x.py", File: "x.py"}, Options{Points: map[string]float64{"opt/pass": 3}, Disabled: []string{"opt/slow"}}, "x.py was not found")
	assert.Equal(t, len(res.Checks), 2)
	for _, c := range res.Checks {
		assert.Equal(t, c.Status, report.Skip)
		assert.Equal(t, c.Message, "skipped: x.py was not found")
	}
	assert.Equal(t, res.Score, 0.0)
	assert.Equal(t, res.MaxScore, 4.0)
	assert.Equal(t, res.Exercise, "opt")
}
