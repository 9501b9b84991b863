#!/usr/bin/env bash
# `make test`: every test, in this order, each with its own summary line:
#   1. g++ 12 build: unit, integration (install / find_package), e2e (official TypeScript
#      SDK client, bad-input suite, stdio), conformance (official suite)
#   2. clang 14 + ASan + UBSan build: unit, e2e, conformance
#   3. clang 14 + libFuzzer: a bounded fuzz run of the message parser
# Ends with one line that adds them up. Exits non-zero if anything failed.
# SKIP_VARIANTS=1 runs step 1 only (quick local loop).
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
jobs=${2:-2}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
passed=0
failed=0

count() {  # adds up ctest's "N tests failed out of M" or our "x: N passed, M failed"
  local line
  line=$(grep -E 'tests failed out of [0-9]+' "$log" | tail -1)
  if [ -n "$line" ]; then
    local f t
    f=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<< "$line")
    t=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<< "$line")
    passed=$((passed + t - f)); failed=$((failed + f))
    return
  fi
  line=$(grep -E '^[a-z]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  if [ -n "$line" ]; then
    passed=$((passed + $(sed -E 's/^[a-z]+: ([0-9]+) passed.*/\1/' <<< "$line")))
    failed=$((failed + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<< "$line")))
  else
    failed=$((failed + 1))  # a step that could not even report counts as a failure
  fi
}

step() {
  local name=$1; shift
  echo
  echo "==== $name"
  local start=$SECONDS
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  echo "==== $name: exit $rc in $((SECONDS - start)) s"
  [ "$rc" -eq 0 ] || status=1
  count
}

step "g++ 12: all tests" ctest --test-dir "$build" --output-on-failure -j "$jobs"
if [ "${SKIP_VARIANTS:-0}" != 1 ]; then
  step "clang 14 + ASan + UBSan" bash scripts/test-variant.sh sanitize "$jobs"
  step "clang 14 + libFuzzer" bash scripts/test-variant.sh fuzz "$jobs"
fi
echo
echo "total: $passed passed, $failed failed"
exit $status
