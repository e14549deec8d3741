# Targets of batch grading, included by the Makefile.

SANDBOX_IMAGE ?= netgrade-python:local

.PHONY: sandbox-image bench-batch bench-similarity bench-interop

## sandbox-image: a local Python image for the docker sandbox, built from
## Debian packages (debootstrap + docker import; needs root and Docker)
sandbox-image:
	sh scripts/sandbox-image.sh $(SANDBOX_IMAGE)

## bench-batch: a generated class of 60 students at -j 1 and at the default
## -j, with their ratio to the sum of single gradings
bench-batch:
	env -u PYTHONUNBUFFERED $(GO) test ./internal/batch/e2e -run '^$$' -bench Class60 -benchtime 1x -timeout 60m


## bench-similarity: the similarity analysis of a generated class of 200
## students with four exercises: every pair, wall time and CPU
bench-similarity:
	env -u PYTHONUNBUFFERED $(GO) test ./internal/similarity -run '^$$' -bench Class200 -benchtime 3x

## bench-interop: the class interop matrix of generated classes of 24 and 60
## students (process sandbox; NETGRADE_INTEROP_SANDBOX=netns for netns):
## cells, wall time, CPU against the floor of the program starts
bench-interop:
	env -u PYTHONUNBUFFERED NETGRADE_INTEROP_STUDENTS=24 $(GO) test ./internal/interop -run '^$$' -bench Class -benchtime 1x -timeout 60m
	env -u PYTHONUNBUFFERED NETGRADE_INTEROP_STUDENTS=60 $(GO) test ./internal/interop -run '^$$' -bench Class -benchtime 1x -timeout 120m
