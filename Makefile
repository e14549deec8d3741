# netgrade's make targets (this file holds the flake guard; the other
# targets are added as the project grows).

GO ?= go

.PHONY: flake
# Grade the reference and every fixture of the concurrency exercises
# (tcp-forking, tcp-threading, tcp-tickets) 20 times in a row while every
# core is kept busy by bounded CPU burners; fail on any verdict that
# changes between runs or differs from a fixture's declaration.
flake:
	env -u PYTHONUNBUFFERED $(GO) run ./internal/tools/flake -runs 20
