# Targets of batch grading. (Other targets of the project may sit beside
# these; each is independent.)
GO ?= go
BIN ?= bin/netgrade
SANDBOX_IMAGE ?= netgrade-python:local

.PHONY: build sandbox-image bench

# build makes the static binary the docker sandbox mounts into containers.
build:
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/netgrade

# sandbox-image builds a local Python image from Debian packages for the
# docker sandbox, for machines that reach no image registry (needs root,
# debootstrap and Docker).
sandbox-image:
	sh scripts/sandbox-image.sh $(SANDBOX_IMAGE)

# bench grades a generated class of 60 students at -j 1 and at the default
# -j and prints both times and their ratio to the sum of single gradings.
bench:
	$(GO) test ./internal/batch/e2e -run '^$$' -bench Class60 -benchtime 1x -timeout 60m
