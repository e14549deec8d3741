# netgrade — build, test and demo targets. Python programs are always run
# as on a student's machine: PYTHONUNBUFFERED is removed from the
# environment of every target that runs them.

GO      ?= go
BIN     ?= bin/netgrade
PKGS    := ./...
UNBUF   := env -u PYTHONUNBUFFERED

.PHONY: all build test demo bench bench-grade bench-check lint flake flake-day2 flake-sandboxes fuzz clean

all: build

## build: the static netgrade binary in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/netgrade

## test: every test (needs python3 on PATH), shown as go test shows them
## (tools/testsum reads go test -json); it ends with the tests skipped for
## a tool this machine lacks, by tool, and how to get each. Its exit status
## is go test's.
test:
	@CGO_ENABLED=0 $(GO) build -o bin/testsum ./tools/testsum
	$(UNBUF) GO=$(GO) bin/testsum -count=1 -parallel 6 -timeout 30m $(PKGS)

## demo: grade the bundled sample submissions, with progress as they are
## graded; ends with the full report of a failing sample, then the table of
## every verdict. It says what it does before building, so that something
## shows at once.
demo:
	@echo "make demo: building $(BIN), then grading the bundled sample submissions"
	@$(MAKE) --no-print-directory build
	$(UNBUF) $(BIN) demo

## bench: what grading costs: for each exercise, then for a student's
## whole `netgrade check` (exercises side by side), the wall time against
## its floor and netgrade's own CPU against the graded programs' CPU; then a
## 60-student batch at -j 1 and the default -j (students per minute, total
## CPU against the CPU floor); then the similarity analysis of a 200-student
## class
bench: bench-grade bench-check bench-batch bench-similarity

bench-grade:
	$(UNBUF) $(GO) test -run '^$$' -bench Grade -benchtime 3x ./course/

bench-check:
	$(UNBUF) $(GO) test -run '^$$' -bench Check -benchtime 3x ./course/

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## flake: grade the reference and every fixture of the concurrency
## exercises (tcp-forking, tcp-threading, tcp-tickets) 20 times in a row
## while every core is kept busy by bounded CPU burners; fail on any verdict
## that changes between runs or differs from a fixture's declaration
flake:
	$(UNBUF) $(GO) run ./tools/flake -runs 20

## flake-day2: the same guard over the day-two exercises (HTTP, REST, mail),
## 10 runs each, three submissions at a time, both cores kept busy
flake-day2:
	$(UNBUF) $(GO) run ./tools/flake -runs 10 -jobs 3 -exercise http-server,rest-api,smtp-client,pop-client,imap-client

## flake-sandboxes: the HTTP server's fixtures graded 10 times in a row in
## each sandbox, as a batch grades them, both cores kept busy
flake-sandboxes: sandbox-image
	for s in process netns docker; do $(UNBUF) $(GO) run ./tools/flake -runs 10 -jobs 3 -exercise http-server -sandbox $$s || exit 1; done

## fuzz: every fuzz target (the parsers of what students and instructors
## send: HTTP responses, mail commands, program output, tracebacks,
## archives, course files, API documents) for FUZZTIME each, one after the
## other, with a summary line per target; a failing input is written to
## the package's testdata/fuzz/ (keep it as a regression case once fixed).
## Before a release: make fuzz FUZZTIME=5m. CI runs FUZZTIME=15s.
FUZZTIME ?= 2m
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz.sh

clean:
	rm -rf bin

include batch.mk
