package samples_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/samples"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
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
		assert.NilError(t, err)
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
			assert.NilError(t, err)
			i := 0
			for _, ex := range exs {
				fs, err := fixtures.For(ex.ID)
				assert.NilError(t, err)
				if tc.fixtures >= 0 {
					fs = fs[:tc.fixtures]
				}
				ref := list[i]
				assert.Equal(t, ref.ID, ex.ID+"/reference")
				assert.Assert(t, ref.Reference())
				assert.DeepEqual(t, ref.Submission.Command, []string{"/bin/netgrade", "ref", ex.ID})
				assert.Assert(t, is.Len(ref.Fails, 0))
				i++
				folders := map[string]bool{}
				for _, f := range fs {
					s := list[i]
					i++
					assert.Equal(t, s.ID, f.ID())
					assert.Equal(t, s.Name(), f.Name)
					assert.Assert(t, !s.Reference())
					assert.Equal(t, s.Exercise, ex)
					assert.DeepEqual(t, s.Fails, f.Fails)
					file := s.Submission.Command[len(s.Submission.Command)-1]
					assert.Assert(t, is.Equal(filepath.Base(file), f.Name))
					src, err := os.ReadFile(file)
					assert.NilError(t, err)
					assert.Equal(t, string(src), string(f.Source))
					assert.Assert(t, !folders[filepath.Dir(file)], "fixture %s shares a folder", f.ID())
					folders[filepath.Dir(file)] = true
				}
			}
			assert.Equal(t, len(list), i)
			assert.Assert(t, is.Len(samples.Jobs(list), len(list)))
			assert.Equal(t, samples.Jobs(list)[1], &list[1].Job)
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
			assert.Equal(t, s.AsDeclared(), tc.want)
		})
	}
}
