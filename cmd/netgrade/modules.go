package main

import (
	"context"

	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/sandbox"
)

// moduleSandbox is a batch's sandbox whose results say, for a program that
// could not import a module, which interpreter or image of the grading
// machine lacks it (the hint is pyenv's; this wires it to the sandbox).
type moduleSandbox struct {
	sandbox.Sandbox
	advice *pyenv.Advisor
	// image is the docker sandbox's image ("" for sandboxes that run this
	// machine's interpreters).
	image string
}

// Grade grades the unit in the wrapped sandbox, then explains the
// failures to import a module.
func (s moduleSandbox) Grade(ctx context.Context, u sandbox.Unit) ([]report.Result, error) {
	results, err := s.Sandbox.Grade(ctx, u)
	if err != nil {
		return results, err
	}
	if s.image == "" {
		s.advice.Grading(ctx, results)
		return results, nil
	}
	pyenv.InImage(results, s.image, func(mod string) string {
		if s.image == sandbox.LocalImage {
			return "rebuild it with `FORCE=1 make sandbox-image`, adding " + pyenv.DebianPackage(mod) + " to its packages if the image does not hold it."
		}
		return "build an image that has it (`make sandbox-image` builds " + sandbox.LocalImage + " with Flask, FastAPI and uvicorn) and name it with --image."
	})
	return results, nil
}
