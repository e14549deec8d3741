package graders

import (
	"time"

	"github.com/netgrade/netgrade/internal/report"
)

// Settings are what a course sets for the grading of one exercise: the
// texts it fixes, the points, visibility, deadline and switch of single
// checks, and the scale of every deadline. It is the one settings type of
// netgrade: the course file produces it, the engine reads it, and the
// sandboxes carry it to their unit runners as JSON, unchanged. The zero
// value keeps every default.
type Settings struct {
	// Texts replace the exercise's default texts, by name.
	Texts map[string]string `json:"texts,omitempty"`
	// Checks are the settings of single checks, by full check ID.
	Checks map[string]CheckSettings `json:"checks,omitempty"`
	// Only, when set, runs only these check IDs.
	Only []string `json:"only,omitempty"`
	// TimeoutScale multiplies every deadline of a grading (watchdogs and
	// the waits for a program's events); zero means 1. A course run on slow
	// machines raises it.
	TimeoutScale float64 `json:"timeout_scale,omitempty"`
	// NoRaceHook runs Python programs as they are in the checks that judge
	// shared state, without netgrade's race hook (internal/racehook), which
	// otherwise widens the windows in which clients can interleave so that
	// a race shows every time.
	NoRaceHook bool `json:"no_race_hook,omitempty"`
}

// CheckSettings are a course's settings for one check; a zero field keeps
// the check's default.
type CheckSettings struct {
	// Points replaces the check's points when not nil.
	Points *float64 `json:"points,omitempty"`
	// Disabled turns the check off: not run, not counted.
	Disabled bool `json:"disabled,omitempty"`
	// Visibility is who may read the check's name and details.
	Visibility report.Visibility `json:"visibility,omitempty"`
	// Timeout replaces the check's watchdog deadline when not zero
	// (nanoseconds in JSON).
	Timeout time.Duration `json:"timeout,omitempty"`
}

// Check returns the settings of the check with the given ID (the zero
// value when the course sets none).
func (s Settings) Check(id string) CheckSettings { return s.Checks[id] }

// With returns a copy of s whose settings for check id are changed by f:
// for tests and command-line flags that adjust one check.
func (s Settings) With(id string, f func(*CheckSettings)) Settings {
	checks := make(map[string]CheckSettings, len(s.Checks)+1)
	for k, v := range s.Checks {
		checks[k] = v
	}
	cs := checks[id]
	f(&cs)
	checks[id] = cs
	s.Checks = checks
	return s
}

// scale returns d multiplied by the timeout scale.
func (s Settings) scale(d time.Duration) time.Duration {
	if s.TimeoutScale <= 0 || s.TimeoutScale == 1 {
		return d
	}
	return time.Duration(float64(d) * s.TimeoutScale)
}
