# netgrade — build and batch-grading targets.
GO  ?= go
BIN ?= bin/netgrade

.PHONY: build bench

## build: the static netgrade binary in bin/ (the docker sandbox mounts it)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/netgrade

## bench: batch grading time of a 60-student class
bench: bench-batch

include batch.mk
