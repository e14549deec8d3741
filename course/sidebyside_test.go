package course_test

import (
	"context"
	"os"
	"testing"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/gradertest"
	"github.com/netgrade/netgrade/internal/samples"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSideBySideVerdicts grades the day-one exercises as `netgrade check`
// does, every exercise of a folder at the same time (GradeSideBySide), in
// rounds that each take the next fixture of every exercise, until every
// fixture and reference was graded once; each must get exactly the verdicts
// it declares, as when graded alone. It takes minutes: it runs when
// NETGRADE_LONG_TESTS=1 (CI sets it).
func TestSideBySideVerdicts(t *testing.T) {
	if os.Getenv("NETGRADE_LONG_TESTS") != "1" {
		t.Skip("SKIPPED: grading every fixture side by side takes minutes; set NETGRADE_LONG_TESTS=1 to run it")
	}
	gradertest.NeedPython(t)
	byExercise := map[string][]*samples.Sample{}
	var ids []string
	for _, id := range dayOne {
		ex, err := course.Registry().Get(id)
		require.NoError(t, err)
		list, err := samples.List(t.TempDir(), netgradeBin, []*graders.Exercise{ex}, nil)
		require.NoError(t, err)
		byExercise[id] = list
		ids = append(ids, id)
	}
	opt := options()
	for round := 0; ; round++ {
		var batch []*samples.Sample
		for _, id := range ids {
			if list := byExercise[id]; round < len(list) {
				batch = append(batch, list[round])
			}
		}
		if len(batch) == 0 {
			break
		}
		graders.GradeSideBySide(context.Background(), samples.Jobs(batch), opt, nil)
		for _, s := range batch {
			assert.Equal(t, s.Fails, s.Failed(), "round %d, %s (%s) graded side by side with %d others\n%s", round, s.ID, s.About, len(batch)-1, explain(s.Result))
			assert.False(t, s.Result.HasErrors(), "%s: netgrade erred\n%s", s.ID, explain(s.Result))
		}
	}
}
