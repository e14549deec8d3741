package sandbox

import (
	"context"
	"errors"
	"os/exec"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// Fake pair runners for the pool's own logic, as shell scripts that speak
// the runner's protocol (ServePairs) without namespaces.
const (
	// fakeServes serves every pair it reads.
	fakeServes = `echo '{"serving":true}'; while read l; do echo '{"outcome":{"ok":true}}'; echo '{"done":true}'; done`
	// fakeOnce serves one pair, then ends.
	fakeOnce = `echo '{"serving":true}'; read l; echo '{"outcome":{"ok":true}}'; echo '{"done":true}'`
	// fakeRetires serves one pair and says it serves no more.
	fakeRetires = `echo '{"serving":true}'; read l; echo '{"retire":"a program changed it"}'; echo '{"outcome":{"ok":true}}'; echo '{"done":true}'; while read l; do :; done`
	// fakeHangs reads a pair and never answers.
	fakeHangs = `echo '{"serving":true}'; read l; exec sleep 600`
	// fakeErrs answers a pair with an error.
	fakeErrs = `echo '{"serving":true}'; read l; echo '{"error":"the cell failed"}'; while read l; do :; done`
	// fakeNoPool cannot serve many pairs.
	fakeNoPool = `echo '{"no_pool":"linked with cgo"}'`
	// fakeDeaf ignores the end of its input.
	fakeDeaf = `echo '{"serving":true}'; exec sleep 600`
)

// fakePool returns a pool whose runners run the scripts in turn (the last
// one again when they run out), and the runners it started.
func fakePool(scripts ...string) (*pairPool, *[]*pooledRunner) {
	var started []*pooledRunner
	pl := newPairPool(func(ctx, life context.Context) (*pooledRunner, error) {
		script := scripts[min(len(started), len(scripts)-1)]
		cmd := exec.CommandContext(life, "sh", "-c", script)
		cmd.WaitDelay = time.Second
		r, err := startPooled(ctx, cmd)
		if r != nil {
			started = append(started, r)
		}
		return r, err
	})
	return pl, &started
}

// TestPairPool runs pairs in a row on pools of fake runners: which runner
// each pair went to, and what became of those that could serve no more.
func TestPairPool(t *testing.T) {
	type step struct {
		timeout time.Duration
		wantErr string
		// starts is how many runners serve after the step.
		starts int
	}
	ok := func(starts int) step { return step{starts: starts} }
	cases := []struct {
		name    string
		scripts []string
		steps   []step
		// waitEnd waits for every runner but the last to end before each
		// pair (one that ended while idle).
		waitEnd bool
	}{
		{name: "one runner serves every pair", scripts: []string{fakeServes}, steps: []step{ok(1), ok(1), ok(1)}},
		{name: "a runner that ended while idle is replaced", scripts: []string{fakeOnce}, waitEnd: true, steps: []step{ok(1), ok(2), ok(3)}},
		{name: "a runner that retires is not reused", scripts: []string{fakeRetires, fakeServes}, steps: []step{ok(1), ok(2), ok(2)}},
		{name: "a runner that outlives its pair is killed", scripts: []string{fakeHangs, fakeServes},
			steps: []step{{timeout: 300 * time.Millisecond, wantErr: "context deadline exceeded", starts: 1}, ok(2), ok(2)}},
		{name: "a runner that errs is not reused", scripts: []string{fakeErrs, fakeServes},
			steps: []step{{wantErr: "pair runner: the cell failed", starts: 1}, ok(2), ok(2)}},
		{name: "runners that cannot serve many pairs turn the pool off", scripts: []string{fakeNoPool},
			steps: []step{{wantErr: errPoolOff.Error(), starts: 0}, {wantErr: errPoolOff.Error(), starts: 0}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pl, started := fakePool(c.scripts...)
			defer pl.close()
			for i, s := range c.steps {
				if c.waitEnd {
					for _, r := range *started {
						<-r.done
					}
				}
				ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
				if s.timeout > 0 {
					ctx, cancel = context.WithTimeout(t.Context(), s.timeout)
				}
				out, err := pl.run(ctx, []byte(`{"name":"x"}`))
				cancel()
				if s.wantErr != "" {
					assert.ErrorContains(t, err, s.wantErr, "pair %d", i)
				} else {
					assert.NilError(t, err, "pair %d", i)
					assert.Equal(t, string(out), `{"ok":true}`, "pair %d", i)
				}
				assert.Equal(t, len(*started), s.starts, "pair %d", i)
			}
			if c.scripts[0] == fakeNoPool {
				assert.Assert(t, pl.off())
				assert.Assert(t, errors.Is(&poolOffError{why: "x"}, errPoolOff))
			}
		})
	}
}

// TestPairPoolCloseEndsEveryRunner closes a pool with an idle runner that
// ends with its input and one that ignores that: both are gone when Close
// returns, the second killed after closeGrace.
func TestPairPoolCloseEndsEveryRunner(t *testing.T) {
	pl, started := fakePool(fakeServes, fakeDeaf)
	ctx := t.Context()
	// Two callers at once: two runners.
	r1, err := pl.get(ctx)
	assert.NilError(t, err)
	r2, err := pl.get(ctx)
	assert.NilError(t, err)
	pl.put(r1)
	pl.put(r2)
	assert.Equal(t, len(*started), 2)
	begin := time.Now()
	pl.close()
	assert.Assert(t, r1.exited() && r2.exited(), "Close returns once every runner has ended")
	assert.Assert(t, is.Contains(r2.werr.Error(), "killed"))
	assert.Assert(t, time.Since(begin) >= closeGrace, "the deaf runner had its grace")
	_, err = pl.get(ctx)
	assert.ErrorContains(t, err, "closed")
}
