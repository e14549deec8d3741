package graders

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// synthetic builds an exercise around the given checks (short IDs, as a
// chapter declares them), run on `sh -c`.
func synthetic(checks ...*Check) *Exercise {
	for _, c := range checks {
		if c.Title == "" {
			c.Title = "demo/" + c.ID
		}
	}
	return NewExercise(&Exercise{ID: "demo", Checks: checks})
}

func grade(t *testing.T, e *Exercise, script string, opt Options) report.Result {
	t.Helper()
	return e.Grade(context.Background(), Submission{Name: "sh", Command: []string{"sh", "-c", script}}, opt)
}

func byID(r report.Result) map[string]report.Check {
	m := map[string]report.Check{}
	for _, c := range r.Checks {
		m[c.ID[len("demo/"):]] = c
	}
	return m
}

func TestEngineStatuses(t *testing.T) {
	e := synthetic(
		&Check{ID: "a", Points: 2, Run: func(t *T) error { return nil }},
		&Check{ID: "b", Points: 3, Hint: "default hint", Run: func(t *T) error {
			return Failf("wrong").Want("x", "y")
		}},
		&Check{ID: "c", Points: 1, Needs: []string{"b"}, Run: func(t *T) error {
			panic("must not run")
		}},
		&Check{ID: "d", Points: 4, Run: func(t *T) error {
			return errors.New("no port left")
		}},
		&Check{ID: "e", Points: 1, Run: func(t *T) error {
			panic("a bug")
		}},
		&Check{ID: "f", Points: 1, Run: func(t *T) error {
			return Skipf("nothing to see")
		}},
	)
	r := grade(t, e, "true", Options{})
	c := byID(r)
	assert.Equal(t, report.Pass, c["a"].Status)
	assert.Equal(t, report.Fail, c["b"].Status)
	assert.Equal(t, "x", c["b"].Expected)
	assert.Equal(t, "default hint", c["b"].Hint, "the check's hint when the failure gives none")
	assert.Equal(t, report.Skip, c["c"].Status)
	assert.Equal(t, "demo/b", c["c"].SkippedBecause)
	assert.Equal(t, report.Error, c["d"].Status)
	assert.Contains(t, c["d"].Message, "no port left")
	assert.Equal(t, report.Error, c["e"].Status)
	assert.Contains(t, c["e"].Message, "panicked: a bug")
	assert.Equal(t, report.Skip, c["f"].Status)
	// Errors are not charged: 2 of 2+3+1+1 (c and f count, d and e do not).
	assert.Equal(t, 2.0, r.Score)
	assert.Equal(t, 7.0, r.MaxScore)
	// Declared order is kept whatever the scheduling.
	var ids []string
	for _, ch := range r.Checks {
		ids = append(ids, ch.ID)
	}
	assert.Equal(t, []string{"demo/a", "demo/b", "demo/c", "demo/d", "demo/e", "demo/f"}, ids)
}

// The watchdog tears the program down at the check's deadline, so a check
// blocked on it returns, and the verdict says the exchange never finished.
func TestEngineWatchdog(t *testing.T) {
	e := synthetic(&Check{ID: "hang", Points: 1, Timeout: 500 * time.Millisecond, Run: func(t *T) error {
		p, err := t.Start(nil)
		if err != nil {
			return err
		}
		// Wait without a deadline of its own: only the watchdog ends this.
		_, _ = p.Wait(context.Background())
		return nil
	}})
	begin := time.Now()
	r := grade(t, e, "echo started; exec sleep 60", Options{})
	assert.Less(t, time.Since(begin), 10*time.Second)
	c := byID(r)["hang"]
	assert.Equal(t, report.Fail, c.Status, c.Message)
	assert.Contains(t, c.Message, "did not finish within 500ms")
	assert.Contains(t, c.Exit, "stopped by netgrade")
	var kinds []report.EventKind
	for _, ev := range c.Transcript {
		kinds = append(kinds, ev.Kind)
	}
	assert.Contains(t, kinds, report.EvStart)
	assert.Contains(t, kinds, report.EvStdout)
	assert.Contains(t, kinds, report.EvExit)
}

// A check reports the traceback and exit of the program it started, and a
// hint for the Python mistake behind it.
func TestEngineDiagnosis(t *testing.T) {
	e := synthetic(&Check{ID: "run", Points: 1, Run: func(t *T) error {
		p, err := t.Start(nil)
		if err != nil {
			return err
		}
		if err := p.WaitOutput(t.Context()); err != nil {
			return err
		}
		return Failf("it ended")
	}})
	r := grade(t, e, `printf 'Traceback (most recent call last):\n  File "s.py", line 1, in <module>\nEOFError: EOF when reading a line\n' >&2; exit 1`, Options{})
	c := byID(r)["run"]
	assert.Equal(t, "exited with status 1", c.Exit)
	assert.Equal(t, "EOFError: EOF when reading a line", c.Traceback)
	assert.Contains(t, c.Hint, "sys.argv")
}

// A program Python cannot compile passes no check, even one that only
// looks for a mistake it never had the chance to make; the report names
// the compile error.
func TestEngineUncompilableProgramPassesNothing(t *testing.T) {
	e := synthetic(&Check{ID: "no-mistake-seen", Points: 1, Run: func(t *T) error {
		p, err := t.Start(nil)
		if err != nil {
			return err
		}
		return p.WaitOutput(t.Context())
	}})
	r := grade(t, e, `printf '%s\n' "SyntaxError: Non-UTF-8 code starting with '\xe9' in file c.py on line 1, but no encoding declared" >&2; exit 1`, Options{})
	c := byID(r)["no-mistake-seen"]
	assert.Equal(t, report.Fail, c.Status)
	assert.Contains(t, c.Message, "does not start")
	assert.Equal(t, "SyntaxError: Non-UTF-8 code starting with '\\xe9' in file c.py on line 1, but no encoding declared", c.Traceback)
	assert.Contains(t, c.Hint, "cannot compile")
	assert.Equal(t, 0.0, r.Score)
}

// The KeyboardInterrupt traceback netgrade's own SIGINT makes a program
// print is marked in the transcript: it is not the program's doing.
func TestEngineMarksTheStopsTraceback(t *testing.T) {
	e := synthetic(&Check{ID: "serves", Points: 1, Run: func(t *T) error {
		p, err := t.Start(nil)
		if err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, _, err = p.Output().Wait(wctx, 0, func(l harness.Line) bool { return l.Text == "ready" })
		return err
	}})
	script := `trap 'printf "Traceback (most recent call last):\n  File s.py, line 3, in <module>\nKeyboardInterrupt\n" >&2; exit 130' INT
echo "Traceback (most recent call last): printed by the program" >&2
echo ready
while :; do sleep 0.05; done`
	r := grade(t, e, script, Options{})
	c := byID(r)["serves"]
	require.Equal(t, report.Pass, c.Status, c.Message)
	stop := map[string]bool{}
	for _, ev := range c.Transcript {
		if ev.Kind == report.EvStderr || ev.Kind == report.EvStdout {
			stop[ev.Data] = ev.FromStop
		}
	}
	assert.Equal(t, map[string]bool{
		"Traceback (most recent call last): printed by the program": false,
		"ready":                              false,
		"Traceback (most recent call last):": true,
		"  File s.py, line 3, in <module>":   true,
		"KeyboardInterrupt":                  true,
	}, stop)
}

func TestEngineOnlyAndDisabled(t *testing.T) {
	mk := func() *Exercise {
		ok := func(t *T) error { return nil }
		return synthetic(&Check{ID: "a", Points: 1, Run: ok}, &Check{ID: "b", Points: 1, Run: ok}, &Check{ID: "c", Points: 1, Run: ok})
	}
	r := grade(t, mk(), "true", Options{Course: Settings{Checks: map[string]CheckSettings{"demo/b": {Disabled: true}, "demo/c": {Points: points(5)}}}})
	assert.Len(t, r.Checks, 2)
	assert.Equal(t, 6.0, r.MaxScore)
	r = grade(t, mk(), "true", Options{Course: Settings{Only: []string{"demo/b"}}})
	require.Len(t, r.Checks, 1)
	assert.Equal(t, "demo/b", r.Checks[0].ID)
}

func TestRegistryRejectsBadWiring(t *testing.T) {
	ok := func(t *T) error { return nil }
	assert.Panics(t, func() {
		NewRegistry(&Exercise{ID: "x", Checks: []*Check{{ID: "x/a", Needs: []string{"x/b"}, Run: ok}, {ID: "x/b", Run: ok}}})
	}, "a check may only need an earlier check")
	assert.Panics(t, func() { NewRegistry(&Exercise{ID: "x", Checks: []*Check{{ID: "y/a", Run: ok}}}) })
}

// NewExercise prefixes short IDs and prerequisites with the exercise, gives
// a check without prerequisites the exercise's default one (but not to
// itself, nor to an Independent check), and its timeout to a check
// without one.
func TestNewExercise(t *testing.T) {
	ok := func(t *T) error { return nil }
	e := NewExercise(&Exercise{ID: "ex", Needs: "starts", CheckTimeout: time.Minute, Checks: []*Check{
		{ID: "starts", Run: ok},
		{ID: "plain", Run: ok},
		{ID: "own", Needs: []string{"plain"}, Timeout: time.Second, Run: ok},
		{ID: "usage", Independent: true, Run: ok},
	}})
	for _, tc := range []struct {
		id      string
		needs   []string
		timeout time.Duration
	}{
		{"ex/starts", []string{}, time.Minute},
		{"ex/plain", []string{"ex/starts"}, time.Minute},
		{"ex/own", []string{"ex/plain"}, time.Second},
		{"ex/usage", []string{}, time.Minute},
	} {
		c := e.Check(tc.id)
		require.NotNil(t, c, tc.id)
		assert.Equal(t, tc.id, c.ID)
		assert.Equal(t, tc.needs, c.Needs, tc.id)
		assert.Equal(t, tc.timeout, c.Timeout, tc.id)
	}
	assert.Same(t, e.Check("ex/plain"), e.Check("plain"), "a short ID finds the check too")
	NewRegistry(e) // its wiring holds

	for name, bad := range map[string]*Exercise{
		"a prefixed ID":              {ID: "ex", Checks: []*Check{{ID: "ex/a", Run: ok}}},
		"a prefixed prerequisite":    {ID: "ex", Checks: []*Check{{ID: "a", Run: ok}, {ID: "b", Needs: []string{"ex/a"}, Run: ok}}},
		"an empty ID":                {ID: "ex", Checks: []*Check{{Run: ok}}},
		"an Independent check needs": {ID: "ex", Checks: []*Check{{ID: "a", Run: ok}, {ID: "b", Independent: true, Needs: []string{"a"}, Run: ok}}},
	} {
		assert.Panics(t, func() { NewExercise(bad) }, name)
	}
}

func TestPrintable(t *testing.T) {
	assert.Equal(t, "các bạn", Printable([]byte("các bạn")))
	assert.Equal(t, `caf\xe9 \xff`, Printable([]byte("caf\xe9 \xff")))
}

// A secret a check masks is hidden everywhere in the transcript: the
// command line, the program's output, what the check recorded.
func TestEngineMasksSecrets(t *testing.T) {
	e := synthetic(&Check{ID: "secret", Points: 1, Run: func(t *T) error {
		t.Mask("hunter22", "ab")
		p, err := t.Start(map[string]string{"password": "hunter22"})
		if err != nil {
			return err
		}
		if _, err := p.Wait(t.Context()); err != nil {
			return err
		}
		_ = p.WaitOutput(t.Context())
		t.Received("pop3", "c", "s", []byte("PASS hunter22"), time.Now())
		return Failf("shown")
	}})
	e.Args = []string{"{password}"}
	r := e.Grade(context.Background(), Submission{Name: "sh", Command: []string{"sh", "-c", `echo "my password is $0, ab"`, "{password}"}}, Options{})
	c := byID(r)["secret"]
	require.Equal(t, report.Fail, c.Status, c.Message)
	var data []string
	for _, ev := range c.Transcript {
		assert.NotContains(t, ev.Data, "hunter22")
		data = append(data, ev.Data)
	}
	assert.Contains(t, data, "my password is ********, ab", "short strings are not masked")
	assert.Contains(t, data, "PASS ********")
}

// An unknown exercise gets the closest known one suggested, and the known
// ones in course order.
func TestRegistryUnknownExercise(t *testing.T) {
	reg := NewRegistry(&Exercise{ID: "udp-server"}, &Exercise{ID: "udp-client"}, &Exercise{ID: "tcp-server"})
	_, err := reg.Get("udp-srever")
	require.EqualError(t, err, `unknown exercise "udp-srever" (did you mean udp-server?); known exercises: udp-server, udp-client, tcp-server`)
	_, err = reg.Get("nothing-like-it")
	require.EqualError(t, err, `unknown exercise "nothing-like-it"; known exercises: udp-server, udp-client, tcp-server`)
}

// TestEngineRunAlone runs a check again, while no other check of the run
// runs, when its program found its own port taken (ErrRunAlone), and
// charges nothing when it still fails so.
func TestEngineRunAlone(t *testing.T) {
	var attempts atomic.Int32
	var running, most atomic.Int32
	busy := func(t *T) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-t.Context().Done():
		}
		return nil
	}
	e := synthetic(
		&Check{ID: "collides", Points: 1, Run: func(t *T) error {
			if attempts.Add(1) == 1 {
				return fmt.Errorf("%w: port 8888", ErrRunAlone)
			}
			if running.Load() != 0 {
				return Failf("another check ran beside the lone retry")
			}
			return nil
		}},
		&Check{ID: "b", Points: 1, Run: busy},
		&Check{ID: "c", Points: 1, Run: busy},
		&Check{ID: "always", Points: 1, Run: func(t *T) error {
			return fmt.Errorf("%w: port 8888", ErrRunAlone)
		}},
	)
	r := grade(t, e, "true", Options{Parallel: 4})
	got := byID(r)
	assert.Equal(t, report.Pass, got["collides"].Status, got["collides"].Message)
	assert.Equal(t, int32(2), attempts.Load())
	assert.Equal(t, report.Error, got["always"].Status, "a port held outside the run is netgrade's problem")
	assert.Contains(t, got["always"].Message, "own port is held by another program")
}

// TestEngineDescribesFromTexts: a check's title, requirement and default
// hint follow the course's texts when it words itself from them, in a
// graded result and in one not run; an empty field keeps the static one.
func TestEngineDescribesFromTexts(t *testing.T) {
	mk := func() *Exercise {
		e := synthetic(&Check{ID: "a", Points: 1, Title: "static", Requirement: "static req", Hint: "static hint",
			Describe: func(text func(string) string) Description {
				return Description{Requirement: "serve " + text("path"), Hint: "route " + text("path")}
			},
			Run: func(t *T) error { return Failf("no") }})
		e.Texts = map[string]string{"path": "/api/todos"}
		return e
	}
	opt := Options{Course: Settings{Texts: map[string]string{"path": "/tasks"}}}
	c := grade(t, mk(), "true", opt).Checks[0]
	assert.Equal(t, "static", c.Title)
	assert.Equal(t, "serve /tasks", c.Requirement)
	assert.Equal(t, "route /tasks", c.Hint)
	c = mk().Unrun(Submission{Name: "x"}, Options{}, report.Skip, "skipped", "").Checks[0]
	assert.Equal(t, "serve /api/todos", c.Requirement)
}
