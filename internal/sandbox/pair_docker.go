package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"time"

	dc "github.com/ory/dockertest/v3/docker"
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
	labels := map[string]string{LabelKind: "pair", LabelRun: d.cfg.RunID, LabelStudent: p.Name}
	maps.Copy(labels, d.cfg.Labels)
	c := d.pool.Client
	const period = 100000
	ct, err := c.CreateContainer(dc.CreateContainerOptions{
		Context: ctx,
		Config: &dc.Config{
			Image:        d.cfg.Image,
			Cmd:          []string{containerBinary, "unit", "--init", pairFlag, "--request", string(req)},
			User:         fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid()),
			WorkingDir:   "/tmp",
			Env:          pairEnv([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/tmp", "LANG=C.UTF-8"}),
			Labels:       labels,
			AttachStdout: true,
			AttachStderr: true,
			StopTimeout:  1,
		},
		HostConfig: &dc.HostConfig{
			NetworkMode:    "none",
			Binds:          binds,
			Memory:         d.cfg.Memory,
			MemorySwap:     d.cfg.Memory,
			PidsLimit:      d.cfg.PIDs,
			CPUPeriod:      period,
			CPUQuota:       int64(d.cfg.CPUs * period),
			CapDrop:        []string{"ALL"},
			SecurityOpt:    []string{"no-new-privileges"},
			ReadonlyRootfs: true,
			Tmpfs:          map[string]string{"/tmp": "rw,nosuid,nodev,size=64m"},
			AutoRemove:     true,
		},
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("docker sandbox: creating the container: %w", err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = removeContainer(rctx, c, ct.ID)
	}()
	pr, pw := io.Pipe()
	stderr := &tailBuffer{max: 8 << 10}
	attached := make(chan struct{})
	cw, err := c.AttachToContainerNonBlocking(dc.AttachToContainerOptions{
		Container: ct.ID, OutputStream: pw, ErrorStream: stderr,
		Stream: true, Stdout: true, Stderr: true, Success: attached,
	})
	if err != nil {
		return nil, fmt.Errorf("docker sandbox: attaching to the container: %w", err)
	}
	defer cw.Close()
	select {
	case <-attached:
		attached <- struct{}{}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	go func() { pw.CloseWithError(cw.Wait()) }()
	if err := c.StartContainerWithContext(ct.ID, nil, ctx); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("docker sandbox: starting the container: %w", err)
	}
	type streamed struct {
		out json.RawMessage
		err error
	}
	done := make(chan streamed, 1)
	go func() {
		out, err := readPairStream(pr)
		_, _ = io.Copy(io.Discard, pr)
		done <- streamed{out, err}
	}()
	select {
	case s := <-done:
		if s.err != nil {
			return nil, unitError(s.err, nil, stderr.String())
		}
		return s.out, nil
	case <-ctx.Done():
		pr.CloseWithError(ctx.Err())
		return nil, ctx.Err()
	}
}
