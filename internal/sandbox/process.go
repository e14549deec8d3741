package sandbox

import (
	"context"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/report"
)

// processSandbox grades inside netgrade itself, with no isolation.
type processSandbox struct {
	runner Runner
}

// NewProcess returns the process sandbox: plain processes in their own
// process groups, on the machine's own loopback, with ports chosen by
// netgrade. It isolates nothing.
func NewProcess(reg *graders.Registry, interp *pyenv.Interpreters) Sandbox {
	if interp == nil {
		interp = pyenv.NewInterpreters()
	}
	return &processSandbox{runner: Runner{
		Registry:     reg,
		Interpreters: interp,
		Ports:        harness.NewPorts(uint64(time.Now().UnixNano())),
	}}
}

func (p *processSandbox) Name() string   { return Process }
func (p *processSandbox) Isolated() bool { return false }
func (p *processSandbox) Close() error   { return nil }

func (p *processSandbox) Grade(ctx context.Context, u Unit) ([]report.Result, error) {
	u.Sandbox = Process
	var out []report.Result
	err := p.runner.Grade(ctx, u, func(r report.Result) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return out, nil
}
