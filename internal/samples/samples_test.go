package samples_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/samples"
	"github.com/stretchr/testify/require"
)

// TestList checks the list of samples of two exercises: each exercise's
// reference first, run through the given binary, then its fixtures (the
// ones pick keeps), each written into a folder of its own and declaring
// the checks of its header.
func TestList(t *testing.T) {
	reg := course.Registry()
	var exs []*graders.Exercise
	for _, id := range []string{"udp-server", "tcp-tickets"} {
		ex, err := reg.Get(id)
		require.NoError(t, err)
		exs = append(exs, ex)
	}
	firstTwo := func(_ *graders.Exercise, fs []fixtures.Fixture) []fixtures.Fixture { return fs[:2] }
	tests := []struct {
		name     string
		pick     samples.Pick
		fixtures int // per exercise; -1: all
	}{
		{"every fixture", nil, -1},
		{"the ones pick keeps", firstTwo, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			list, err := samples.List(dir, "/bin/netgrade", exs, tc.pick)
			require.NoError(t, err)
			i := 0
			for _, ex := range exs {
				fs, err := fixtures.For(ex.ID)
				require.NoError(t, err)
				if tc.fixtures >= 0 {
					fs = fs[:tc.fixtures]
				}
				ref := list[i]
				require.Equal(t, ex.ID+"/reference", ref.ID)
				require.True(t, ref.Reference(), "ref.Reference()")
				require.Equal(t, []string{"/bin/netgrade", "ref", ex.ID}, ref.Submission.Command)
				require.Len(t, ref.Fails, 0)
				i++
				folders := map[string]bool{}
				for _, f := range fs {
					s := list[i]
					i++
					require.Equal(t, f.ID(), s.ID)
					require.Equal(t, f.Name, s.Name())
					require.False(t, s.Reference(), "!s.Reference()")
					require.Equal(t, ex, s.Exercise)
					require.Equal(t, f.Fails, s.Fails)
					file := s.Submission.Command[len(s.Submission.Command)-1]
					require.Equal(t, f.Name, filepath.Base(file))
					src, err := os.ReadFile(file)
					require.NoError(t, err)
					require.Equal(t, string(f.Source), string(src))
					require.False(t, folders[filepath.Dir(file)], "fixture %s shares a folder", f.ID())
					folders[filepath.Dir(file)] = true
				}
			}
			require.Equal(t, i, len(list))
			require.Len(t, samples.Jobs(list), len(list))
			require.Equal(t, &list[1].Job, samples.Jobs(list)[1])
		})
	}
}

// TestAsDeclared checks the judgement of a graded sample against its
// declaration: the same failing checks and no netgrade error.
func TestAsDeclared(t *testing.T) {
	check := func(id string, s report.Status) report.Check { return report.Check{ID: id, Status: s} }
	tests := []struct {
		name   string
		fails  []string
		checks []report.Check
		want   bool
	}{
		{"passes as declared", nil, []report.Check{check("x/a", report.Pass)}, true},
		{"fails as declared", []string{"x/a", "x/b"}, []report.Check{check("x/b", report.Fail), check("x/a", report.Fail), check("x/c", report.Pass)}, true},
		{"fails a check it does not declare", nil, []report.Check{check("x/a", report.Fail)}, false},
		{"passes a check it declares failing", []string{"x/a"}, []report.Check{check("x/a", report.Pass)}, false},
		{"netgrade erred", nil, []report.Check{check("x/a", report.Error)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := samples.Sample{Fails: tc.fails}
			s.Result = report.Result{Checks: tc.checks}
			require.Equal(t, tc.want, s.AsDeclared())
		})
	}
}

// TestGrade grades samples a few at a time and tells as each is done, one
// call at a time, counting up: what the demo's progress shows.
func TestGrade(t *testing.T) {
	ex := &graders.Exercise{ID: "x", Checks: []*graders.Check{{ID: "x/a", Title: "a", Points: 1,
		Run: func(t *graders.T) error { return nil }}}}
	var list []*samples.Sample
	for i := range 5 {
		list = append(list, &samples.Sample{ID: fmt.Sprintf("x/%d.py", i), Job: graders.Job{Exercise: ex, Submission: graders.Submission{Name: "s"}}})
	}
	var counts []int
	seen := map[string]bool{}
	samples.Grade(context.Background(), list, 2, graders.Options{}, func(finished int, s *samples.Sample) {
		counts = append(counts, finished)
		seen[s.ID] = true
		require.Equal(t, 1.0, s.Result.Score, "the result is stored before the call")
	})
	require.Equal(t, []int{1, 2, 3, 4, 5}, counts)
	require.Len(t, seen, 5)
}
