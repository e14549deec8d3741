package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// errPoolOff is returned by the pool where its runners cannot serve many
// pairs (a runner said why): each pair then runs in a runner of its own.
var errPoolOff = errors.New("pair runners cannot serve many pairs here")

// errRunnerGone marks a pair that never reached its runner: the runner
// had ended while idle, and another may run the pair.
var errRunnerGone = errors.New("the pair runner had ended")

// closeGrace is how long Close gives a runner to end once its input is
// closed, before it kills it.
const closeGrace = 2 * time.Second

// runnerStartBound bounds a runner's start, until it says that it serves.
const runnerStartBound = 30 * time.Second

// pairPool holds the netns sandbox's pair runners that serve many pairs
// (ServePairs), so that an interop matrix starts netgrade once per cell
// at a time rather than once per cell: a start costs about as much CPU as
// a Python program's. A caller takes an idle runner or starts one, and
// gives it back when its pair went well, so the pool holds at most as
// many runners as there were callers at once.
type pairPool struct {
	// start starts a runner whose process lives until life ends, and
	// waits, as long as ctx allows, until it says that it serves.
	start func(ctx, life context.Context) (*pooledRunner, error)
	// life is the runners' lifetime, ended by close.
	life context.Context
	end  context.CancelFunc

	mu   sync.Mutex
	idle []*pooledRunner
	// live are every runner started and not discarded, idle or busy.
	live   map[*pooledRunner]struct{}
	closed bool
	// noPool says why runners cannot serve many pairs, once one said so.
	noPool string
	// starts counts the runners started that serve.
	starts int
}

// newPairPool returns an empty pool whose runners start.
func newPairPool(start func(ctx, life context.Context) (*pooledRunner, error)) *pairPool {
	life, end := context.WithCancel(context.Background())
	return &pairPool{start: start, life: life, end: end, live: map[*pooledRunner]struct{}{}}
}

// off reports whether runners cannot serve many pairs here.
func (pl *pairPool) off() bool {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return pl.noPool != ""
}

// run runs one pair (req, encoded) on a runner of the pool. It returns
// errPoolOff when runners cannot serve many pairs here. A pair that never
// reached its runner (one that had ended while idle) goes to another.
func (pl *pairPool) run(ctx context.Context, req []byte) (json.RawMessage, error) {
	for attempt := 0; ; attempt++ {
		r, err := pl.get(ctx)
		if err != nil {
			return nil, err
		}
		out, retire, err := r.serve(ctx, req)
		if err == nil {
			if retire != "" {
				pl.discard(r)
			} else {
				pl.put(r)
			}
			return out, nil
		}
		pl.discard(r)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, errRunnerGone) && attempt < 2 {
			continue
		}
		return nil, err
	}
}

// get takes an idle runner that still lives, or starts one.
func (pl *pairPool) get(ctx context.Context) (*pooledRunner, error) {
	pl.mu.Lock()
	if pl.closed {
		pl.mu.Unlock()
		return nil, errors.New("netns sandbox: closed")
	}
	if pl.noPool != "" {
		pl.mu.Unlock()
		return nil, errPoolOff
	}
	for len(pl.idle) > 0 {
		r := pl.idle[len(pl.idle)-1]
		pl.idle = pl.idle[:len(pl.idle)-1]
		if r.exited() {
			delete(pl.live, r)
			r.release()
			continue
		}
		pl.mu.Unlock()
		return r, nil
	}
	pl.mu.Unlock()
	sctx, cancel := context.WithTimeout(ctx, runnerStartBound)
	r, err := pl.start(sctx, pl.life)
	cancel()
	if err != nil {
		if why, ok := poolOffWhy(err); ok {
			pl.mu.Lock()
			pl.noPool = why
			pl.mu.Unlock()
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.closed {
		r.stop()
		return nil, errors.New("netns sandbox: closed")
	}
	pl.live[r] = struct{}{}
	pl.starts++
	return r, nil
}

// poolOffWhy returns why the pool is off when err says it is.
func poolOffWhy(err error) (string, bool) {
	var off *poolOffError
	if errors.As(err, &off) {
		return off.why, true
	}
	return "", false
}

// poolOffError is a runner's word that it cannot serve many pairs.
type poolOffError struct{ why string }

func (e *poolOffError) Error() string { return errPoolOff.Error() + ": " + e.why }
func (e *poolOffError) Unwrap() error { return errPoolOff }

// put gives a runner whose pair went well back to the pool.
func (pl *pairPool) put(r *pooledRunner) {
	pl.mu.Lock()
	if !pl.closed {
		pl.idle = append(pl.idle, r)
		pl.mu.Unlock()
		return
	}
	delete(pl.live, r)
	pl.mu.Unlock()
	r.stop()
}

// discard kills a runner that erred, died or outlived its pair, and
// waits until it has ended: it never serves another pair.
func (pl *pairPool) discard(r *pooledRunner) {
	pl.mu.Lock()
	delete(pl.live, r)
	pl.mu.Unlock()
	r.stop()
}

// close ends every runner: it closes their input, which ends an idle one,
// and kills those still there after closeGrace. Nothing of the pool is
// left running when it returns.
func (pl *pairPool) close() {
	pl.mu.Lock()
	pl.closed = true
	live := make([]*pooledRunner, 0, len(pl.live))
	for r := range pl.live {
		live = append(live, r)
	}
	pl.live = map[*pooledRunner]struct{}{}
	pl.idle = nil
	pl.mu.Unlock()
	for _, r := range live {
		_ = r.in.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
	defer cancel()
	for _, r := range live {
		select {
		case <-r.done:
		case <-ctx.Done():
			r.kill()
			<-r.done
		}
		r.release()
	}
	pl.end()
}

// pooledRunner is one pair runner that serves many pairs.
type pooledRunner struct {
	cmd *exec.Cmd
	// in is the runner's standard input (a pair a line), out its standard
	// output (each pair's stream), read by dec.
	in, out *os.File
	dec     *json.Decoder
	stderr  *tailBuffer
	// done is closed once the runner has ended and werr holds how.
	done chan struct{}
	werr error
	once sync.Once
}

// startPooled starts a pair runner that serves many pairs (cmd, not
// started) and waits, as long as ctx allows, until it says that it does.
// A runner that cannot says why (a *poolOffError).
func startPooled(ctx context.Context, cmd *exec.Cmd) (*pooledRunner, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("netns sandbox: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("netns sandbox: %w", err)
	}
	r := &pooledRunner{cmd: cmd, in: inW, out: outR, dec: json.NewDecoder(outR), stderr: &tailBuffer{max: 8 << 10}, done: make(chan struct{})}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, r.stderr
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		r.release()
		return nil, fmt.Errorf("netns sandbox: starting the pair runner in new namespaces: %w", err)
	}
	go func() {
		r.werr = cmd.Wait()
		close(r.done)
	}()
	stop := context.AfterFunc(ctx, r.kill)
	defer stop()
	var l pairLine
	if err := r.dec.Decode(&l); err != nil {
		r.stop()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("netns sandbox: the pair runner did not start: %w", ctx.Err())
		}
		return nil, unitError(fmt.Errorf("the pair runner did not start: %w", err), r.werr, r.stderr.String())
	}
	switch {
	case l.Serving:
		return r, nil
	case l.NoPool != "":
		r.stop()
		return nil, &poolOffError{why: l.NoPool}
	case l.Error != "":
		r.stop()
		return nil, unitError(fmt.Errorf("pair runner: %s", l.Error), r.werr, r.stderr.String())
	}
	r.stop()
	return nil, errors.New("the pair runner began with an unexpected line")
}

// serve hands the runner one pair and reads its outcome, and why the
// runner serves no more pairs if it says so (retire). When ctx ends first,
// the runner is killed.
func (r *pooledRunner) serve(ctx context.Context, req []byte) (out json.RawMessage, retire string, err error) {
	stop := context.AfterFunc(ctx, r.kill)
	defer stop()
	r.stderr.reset()
	if _, err := r.in.Write(append(req, '\n')); err != nil {
		return nil, "", fmt.Errorf("%w: %w", errRunnerGone, err)
	}
	out, retire, err = decodePairStream(r.dec)
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		r.stop()
		return nil, "", unitError(err, r.werr, r.stderr.String())
	}
	return out, retire, nil
}

// kill kills the runner, PID 1 of its namespaces, and so every process in
// them.
func (r *pooledRunner) kill() { _ = r.cmd.Process.Signal(syscall.SIGKILL) }

// exited reports whether the runner has ended.
func (r *pooledRunner) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// stop kills the runner, waits until it has ended and releases its pipes.
func (r *pooledRunner) stop() {
	r.kill()
	<-r.done
	r.release()
}

// release closes the parent's ends of the runner's pipes.
func (r *pooledRunner) release() {
	r.once.Do(func() {
		_ = r.in.Close()
		_ = r.out.Close()
	})
}
