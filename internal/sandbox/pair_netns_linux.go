package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// runPair runs the pair runner in new namespaces, as Grade runs the unit
// runner: the pair's two programs share the namespace's loopback and
// nothing else, and everything they start dies with it.
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
