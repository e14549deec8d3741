package graders

import (
	"context"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/report"
	"github.com/stretchr/testify/require"
)

// optionsExercise has checks that need no program: one passes, one fails,
// one waits until its deadline.
func optionsExercise() *Exercise {
	return &Exercise{
		ID: "opt", Title: "options",
		Checks: []*Check{
			{ID: "opt/pass", Title: "passes", Category: report.Start, Points: 2,
				Run: func(t *T) error { return nil }},
			{ID: "opt/fail", Title: "fails", Category: report.Format, Points: 1, Needs: []string{"opt/pass"},
				Run: func(t *T) error { return Failf("wrong").Want("a", "b") }},
			{ID: "opt/slow", Title: "waits", Category: report.Lifecycle, Points: 1, Timeout: 40 * time.Millisecond,
				Run: func(t *T) error { <-t.Context().Done(); return t.Context().Err() }},
		},
	}
}

func TestOptionsReachTheReport(t *testing.T) {
	e := optionsExercise()
	res := e.Grade(context.Background(), Submission{Name: "s", File: "dir/s.py"}, Options{Course: Settings{
		Checks: map[string]CheckSettings{
			"opt/fail": {Points: points(5), Visibility: report.Hidden},
			"opt/pass": {Disabled: true},
			"opt/slow": {Timeout: 30 * time.Millisecond},
		},
		TimeoutScale: 2,
	}})
	require.Equal(t, "dir/s.py", res.File)
	require.Equal(t, 2, len(res.Checks), "the disabled check is not run")
	fail, slow := res.Checks[0], res.Checks[1]
	require.Equal(t, report.Fail, fail.Status, "a disabled prerequisite does not skip")
	require.Equal(t, 5.0, fail.MaxPoints)
	require.Equal(t, report.Hidden, fail.Visibility)
	require.Equal(t, report.Visibility(""), slow.Visibility)
	// The course's timeout replaces the check's, scaled.
	require.Equal(t, report.Fail, slow.Status)
	require.Contains(t, slow.Message, "within 60ms")
	require.Equal(t, 6.0, res.MaxScore)
}

func TestTimeoutScale(t *testing.T) {
	tt := &T{opt: Options{settings: Settings{TimeoutScale: 2.5}}}
	require.Equal(t, 5*time.Second, tt.Timeout(2*time.Second))
	tt = &T{opt: Options{}}
	require.Equal(t, 2*time.Second, tt.Timeout(2*time.Second))
}

// TestUnrun checks the result of a submission whose checks could not run:
// a file not handed in (skipped) or programs that cannot be run (failed),
// under the options' selection, points and visibility.
func TestUnrun(t *testing.T) {
	opt := Options{Course: Settings{Checks: map[string]CheckSettings{
		"opt/pass": {Points: points(3), Visibility: report.Hidden},
		"opt/slow": {Disabled: true},
	}}}
	tests := []struct {
		name          string
		res           report.Result
		status        report.Status
		message, hint string
	}{
		{"not submitted", optionsExercise().NotSubmitted(Submission{Name: "x.py", File: "x.py"}, opt, "x.py was not found"),
			report.Skip, "skipped: x.py was not found", ""},
		{"cannot run", optionsExercise().Unrun(Submission{Name: "alice"}, opt, report.Fail, "the archive is broken", "Hand in a plain .zip."),
			report.Fail, "the archive is broken", "Hand in a plain .zip."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.res
			require.Equal(t, 2, len(res.Checks), "the disabled check is left out")
			for _, c := range res.Checks {
				require.Equal(t, tc.status, c.Status)
				require.Equal(t, tc.message, c.Message)
				require.Equal(t, tc.hint, c.Hint)
			}
			require.Equal(t, "opt/pass", res.Checks[0].ID)
			require.Equal(t, report.Hidden, res.Checks[0].Visibility)
			require.Equal(t, 0.0, res.Score)
			require.Equal(t, 4.0, res.MaxScore, "the course's points")
			require.Equal(t, "opt", res.Exercise)
			require.Equal(t, tc.status == report.Skip, res.Missing, "only a file not handed in is missing")
		})
	}
}

// TestDeadlines checks the watchdog deadlines of a grading: the checks the
// options select, each with the course's deadline or its own (or the
// default), scaled.
func TestDeadlines(t *testing.T) {
	e := optionsExercise()
	tests := []struct {
		name string
		opt  Options
		want []time.Duration
	}{
		{"defaults", Options{}, []time.Duration{DefaultCheckTimeout, DefaultCheckTimeout, 40 * time.Millisecond}},
		{"course deadline and selection", Options{Course: Settings{Checks: map[string]CheckSettings{"opt/fail": {Timeout: time.Second}, "opt/pass": {Disabled: true}}}},
			[]time.Duration{time.Second, 40 * time.Millisecond}},
		{"scaled", Options{Course: Settings{TimeoutScale: 2, Only: []string{"opt/slow"}}}, []time.Duration{80 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, e.Deadlines(tc.opt))
		})
	}
}

// points returns a pointer to p, for CheckSettings.Points.
func points(p float64) *float64 { return &p }
