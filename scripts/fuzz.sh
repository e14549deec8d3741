#!/usr/bin/env bash
# fuzz.sh runs every Go fuzz target of netgrade (func FuzzX(f *testing.F))
# for a bounded time each, one after the other: `go test -fuzz` takes one
# target of one package per run. It prints one summary line per target
# (package, target, time fuzzed, executions, result) and fails when a
# target fails, naming the input it wrote to the package's
# testdata/fuzz/FuzzX/ (keep that file: once the bug is fixed it is a
# regression case that every `go test` runs).
#
# Settings, from the environment:
#   FUZZTIME          time per target (default 20s), as go test -fuzztime
#   FUZZMINIMIZETIME  time to minimise a failing or new input (default 10s)
#   FUZZ_PARALLEL     fuzzing workers per target (default: go's, GOMAXPROCS)
#   FUZZ_TARGETS      a regular expression: only the targets it matches
#   FUZZ_PKGS         the packages to look in (default ./...)
#
# The corpora alone (seeds and testdata/fuzz) run in every `go test`.
set -uo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-20s}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-10s}
FUZZ_TARGETS=${FUZZ_TARGETS:-.}
FUZZ_PKGS=${FUZZ_PKGS:-./...}
parallel=()
if [ -n "${FUZZ_PARALLEL:-}" ]; then
  parallel=(-parallel "$FUZZ_PARALLEL")
fi

# A student's machine does not set PYTHONUNBUFFERED; the tests must not either.
unset PYTHONUNBUFFERED

# The packages that have fuzz targets, then their targets as go lists them.
mapfile -t pkgs < <($GO list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}' $FUZZ_PKGS | while read -r path dir; do
  if grep -qs '^func Fuzz[A-Za-z0-9_]*(f \*testing\.F)' "$dir"/*_test.go; then echo "$path $dir"; fi
done)
if [ ${#pkgs[@]} -eq 0 ]; then
  echo "fuzz: no fuzz target found in $FUZZ_PKGS" >&2
  exit 1
fi

module=$($GO list -m)
targets=()
for entry in "${pkgs[@]}"; do
  read -r path dir <<<"$entry"
  list=$($GO test -list '^Fuzz' "$path") || { echo "$list" >&2; echo "fuzz: listing the targets of $path failed" >&2; exit 1; }
  while read -r name; do
    case $name in
      Fuzz*) if [[ $name =~ $FUZZ_TARGETS ]]; then targets+=("$path $dir $name"); fi ;;
    esac
  done <<<"$list"
done
echo "fuzz: ${#targets[@]} targets, $FUZZTIME each"

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# fuzz_one fuzzes one target of one package into $log.
fuzz_one() {
  $GO test -run '^$' -fuzz "^${2}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" \
    "${parallel[@]}" "$1" >"$log" 2>&1
}

# deadline_race says whether $log shows Go's fuzztime race and nothing
# else: the failure message is the coordinator's "context deadline
# exceeded" alone and no failing input was written.
deadline_race() {
  ! grep -q 'testdata/fuzz/' "$log" &&
    grep -A1 -E '^--- FAIL: Fuzz' "$log" | tail -n 1 | grep -qxE '[[:space:]]*context deadline exceeded'
}
summary=()
failed=0
for entry in "${targets[@]}"; do
  read -r path dir name <<<"$entry"
  echo "== $path $name"
  start=$(date +%s)
  retried=""
  fuzz_one "$path" "$name"
  rc=$?
  # Go 1.26's fuzzing coordinator can stop at the end of -fuzztime with
  # "context deadline exceeded" and no input written, when a worker is
  # still in a call as the deadline fires (golang/go#75804, fixed in Go
  # 1.27): a race in the tool, not a bug of the target. Only that exact
  # signature is run once more; a failure that writes an input, or that
  # comes back, fails as before.
  if [ $rc -ne 0 ] && deadline_race; then
    cat "$log"
    echo "fuzz: $name stopped with Go's fuzztime race (golang/go#75804, no input written): running it once more"
    retried=" (once more: Go's fuzztime race, golang/go#75804)"
    fuzz_one "$path" "$name"
    rc=$?
  fi
  wall=$(( $(date +%s) - start ))
  # The last progress line holds the totals:
  # "fuzz: elapsed: 20s, execs: 51234 (2561/sec), new interesting: 3 (total: 40)"
  last=$(grep -E '^fuzz: elapsed: [0-9]+s, execs: [0-9]+' "$log" | tail -n 1)
  elapsed=$(sed -E 's/^fuzz: elapsed: ([0-9]+s).*/\1/' <<<"$last")
  execs=$(sed -E 's/^fuzz: elapsed: [0-9]+s, execs: ([0-9]+).*/\1/' <<<"$last")
  if [ $rc -eq 0 ]; then
    result="ok$retried"
  else
    failed=1
    cat "$log"
    crasher=$(grep -oE 'testdata/fuzz/[^ ]+' "$log" | head -n 1)
    if [ -n "$crasher" ]; then
      result="FAIL: input written to ${dir#"$PWD/"}/$crasher"
    else
      result="FAIL (exit $rc, no input written; see the output above)"
    fi
  fi
  line=$(printf '%-24s %-20s %6s %12s  %s' ".${path#"$module"}" "$name" "${elapsed:-${wall}s}" "${execs:-0}" "$result")
  echo "$line"
  summary+=("$line")
done

echo
echo "fuzz summary ($FUZZTIME a target):"
printf '%-24s %-20s %6s %12s  %s\n' package target time executions result
for l in "${summary[@]}"; do echo "$l"; done
if [ $failed -ne 0 ]; then
  echo "fuzz: a target failed: fix the bug, keep the input its line names as a regression case" >&2
  exit 1
fi
