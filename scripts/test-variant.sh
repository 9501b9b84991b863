#!/usr/bin/env bash
# Builds and tests one variant in its own build directory:
#   clang     clang 14, -Werror, every ctest test
#   sanitize  clang 14 + AddressSanitizer + UndefinedBehaviorSanitizer: unit, e2e, conformance
#   fuzz      clang 14 + libFuzzer: a bounded run of the message fuzzer (FUZZ_SECONDS, default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
variant=$1
jobs=${2:-2}
CXX_CLANG=$(command -v clang++-14 || command -v clang++)
common=(-G Ninja -DCMAKE_CXX_COMPILER="$CXX_CLANG" -DFRONTMCP_BUILD_BENCH=OFF)

case "$variant" in
  clang)
    cmake -S . -B build-clang "${common[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
    cmake --build build-clang -j "$jobs"
    ctest --test-dir build-clang --output-on-failure -j "$jobs"
    ;;
  sanitize)
    cmake -S . -B build-sanitize "${common[@]}" -DCMAKE_BUILD_TYPE=Debug -DFRONTMCP_SANITIZE=ON > /dev/null
    cmake --build build-sanitize -j "$jobs"
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    ctest --test-dir build-sanitize --output-on-failure -j "$jobs" -L 'unit|integration|e2e|conformance' -E '^install\.'
    ;;
  fuzz)
    cmake -S . -B build-fuzz "${common[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFRONTMCP_FUZZ=ON \
      -DFRONTMCP_BUILD_TESTS=OFF > /dev/null
    cmake --build build-fuzz -j "$jobs" --target fuzz_messages
    corpus=$(mktemp -d)
    trap 'rm -rf "$corpus"' EXIT
    cp tests/fuzz/corpus/* "$corpus/"
    seconds=${FUZZ_SECONDS:-30}
    if build-fuzz/bin/fuzz_messages -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
         "$corpus" > build-fuzz/fuzz.log 2>&1; then
      grep -E 'stat::number_of_executed_units|Done' build-fuzz/fuzz.log | tail -2
      echo "fuzz: 1 passed, 0 failed"
    else
      tail -40 build-fuzz/fuzz.log
      echo "fuzz: 0 passed, 1 failed"
      exit 1
    fi
    ;;
  *) echo "usage: $0 clang|sanitize|fuzz [jobs]" >&2; exit 2 ;;
esac
