package sandbox_test

import (
	"testing"
	"time"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/sandbox"
	"github.com/stretchr/testify/assert"
)

// TestUnitTimeout checks that a unit's bound follows the course: a timeout
// scale lengthens it, per-exercise settings that leave checks out shorten
// it.
func TestUnitTimeout(t *testing.T) {
	exs := course.Registry().Exercises()
	base := sandbox.UnitTimeout(exs, nil)
	scaled := sandbox.UnitTimeout(exs, graders.Settings{TimeoutScale: 2})
	fewer := sandbox.UnitTimeout(exs, sandbox.Course{"tcp-tickets": {Settings: graders.Settings{Only: []string{"tcp-tickets/starts"}}}})
	var watchdogs time.Duration
	for _, e := range exs {
		for _, d := range e.Deadlines(graders.Options{}) {
			watchdogs += d
		}
	}
	assert.Greater(t, base, watchdogs, "the bound covers every check's deadline")
	assert.Equal(t, watchdogs, scaled-base, "a scale of 2 adds the deadlines once more")
	assert.Less(t, fewer, base)
}
