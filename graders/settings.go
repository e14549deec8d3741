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

// Course is what a course says of each of its exercises: the settings of
// its checks and the command template that runs a student's file of it
// (nil: a .py file under python3, an executable directly; see
// sandbox.Entry). It is the one way a course reaches a grading: cmd hands
// one (a course file) to batch, batch to the sandboxes (which carry it to
// their unit runners as JSON), and they to the engine in Options.Course.
type Course interface {
	Settings(exercise string) Settings
	Command(exercise string) []string
}

// Settings is also the Course that gives every exercise these settings
// and the default command: one exercise graded alone, a sample with its
// own texts, a test.
func (s Settings) Settings(string) Settings { return s }

// Command is nil: the default command (see Course).
func (s Settings) Command(string) []string { return nil }

// SettingsOf returns c's settings for exercise: the defaults when c is
// nil.
func SettingsOf(c Course, exercise string) Settings {
	if c == nil {
		return Settings{}
	}
	return c.Settings(exercise)
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
