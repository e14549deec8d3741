package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// runPair runs the pair in new namespaces: the pair's two programs share
// the namespace's loopback and nothing else, and everything they start
// dies with the cell. It hands the pair to an idle runner of the pool (or
// a new one), which serves many pairs one after another, each in network
// and IPC namespaces and a scratch folder of its own, and kills whatever
// the cell left before the next; where runners cannot serve many pairs
// (the pool is off), it starts a runner for this pair alone, as Grade
// starts the unit runner. A runner that errs, dies or outlives the pair's
// timeout (plus killGrace) is killed, its namespaces with it, and never
// serves another pair.
func (n *netnsSandbox) runPair(ctx context.Context, p Pair) (json.RawMessage, error) {
	p.Sandbox = Netns
	if p.Python == "" {
		p.Python = n.python
	}
	req, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encoding the pair: %w", err)
	}
	if p.Timeout() > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.Timeout()+killGrace)
		defer cancel()
	}
	if n.pool == nil || n.pool.off() {
		return n.runPairAlone(ctx, req)
	}
	out, err := n.pool.run(ctx, req)
	if errors.Is(err, errPoolOff) {
		return n.runPairAlone(ctx, req)
	}
	return out, err
}

// runPairAlone runs the pair runner for one pair (req, encoded) in new
// namespaces.
func (n *netnsSandbox) runPairAlone(ctx context.Context, req []byte) (json.RawMessage, error) {
	cmd := n.command(ctx, pairFlag)
	cmd.Env = pairEnv(os.Environ())
	cmd.Stdin = bytes.NewReader(req)
	stderr := &tailBuffer{max: 8 << 10}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("netns sandbox: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("netns sandbox: starting the pair runner in new namespaces: %w", err)
	}
	out, rerr := readPairStream(stdout)
	_, _ = io.Copy(io.Discard, stdout)
	werr := cmd.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if rerr != nil {
		return nil, unitError(rerr, werr, stderr.String())
	}
	return out, nil
}
