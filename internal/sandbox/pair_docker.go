package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
)

// runPair runs the pair runner in a container of its own, with the limits
// of a unit's container and no network: each program's folder is mounted
// read-only at /submission/N, N its index in the pair.
func (d *dockerSandbox) runPair(ctx context.Context, p Pair) (json.RawMessage, error) {
	p.Sandbox = Docker
	p.Python = ""
	binds := []string{d.cfg.Binary + ":" + containerBinary + ":ro"}
	for i, prog := range p.Programs {
		host, err := filepath.Abs(prog.Dir)
		if err != nil {
			return nil, fmt.Errorf("docker sandbox: %w", err)
		}
		in := containerSubmission + "/" + strconv.Itoa(i)
		binds = append(binds, host+":"+in+":ro")
		p.Programs[i].Dir = in
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
	spec := container{
		kind: "pair", name: p.Name,
		cmd:     []string{containerBinary, "unit", "--init", pairFlag, "--request", string(req)},
		workDir: "/tmp",
		env:     pairEnv(slices.Clone(containerEnv)),
		binds:   binds,
	}
	var out json.RawMessage
	err = d.run(ctx, spec, func(r io.Reader) (err error) {
		out, err = readPairStream(r)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
