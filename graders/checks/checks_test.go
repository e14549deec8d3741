package checks

import (
	"testing"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/probe"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// The shared checks are declared short and wired by the exercise: starts
// is the default prerequisite, usage runs without it and shows the
// exercise's command line, silent-client takes the default.
func TestSharedChecksWiring(t *testing.T) {
	e := &graders.Exercise{ID: "ex", Usage: "ex.py PORT", Needs: StartsID}
	e.Checks = []*graders.Check{
		Starts("tcp", "listen"),
		SilentClient("hint", probe.LineTimeout, nil),
		Usage(e.Usage, ""),
	}
	graders.NewRegistry(graders.NewExercise(e))
	assert.DeepEqual(t, e.Check("starts").Needs, []string{})
	assert.DeepEqual(t, e.Check("silent-client").Needs, []string{"ex/starts"})
	usage := e.Check("usage")
	assert.DeepEqual(t, usage.Needs, []string{})
	assert.Check(t, is.Contains(usage.Hint, "print('Usage: ex.py PORT')"))
}

func TestPortRule(t *testing.T) {
	for _, tc := range []struct {
		value string
		ok    bool
	}{
		{probe.PortFollow, true},
		{probe.PortArgv, true},
		{"", false},
		{"8888", false},
	} {
		err := PortRule(tc.value)
		if tc.ok {
			assert.NilError(t, err, tc.value)
		} else {
			assert.ErrorContains(t, err, "is neither", tc.value)
		}
	}
}
