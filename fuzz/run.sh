#!/usr/bin/env bash
# Runs one fuzz target for SECONDS (niced), from its seeds in fuzz/corpus/TARGET plus the
# corpus it has grown so far in BUILD/corpus/TARGET (new inputs go there; crashing inputs go
# to BUILD/crashes/TARGET/). Prints libFuzzer's final stats (executions, corpus size).
#   fuzz/run.sh TARGET SECONDS [BUILD_DIR=build-fuzz] [libFuzzer flags...]
# Exits non-zero when the target crashed, leaked, hung or a sanitizer reported.
set -uo pipefail
cd "$(dirname "$0")/.."
T=$1; S=$2; B=${3:-build-fuzz}; shift $(( $# < 3 ? $# : 3 ))
[ -x "$B/fuzz/$T" ] || { echo "no $B/fuzz/$T: build with cmake -DCMAKE_C_COMPILER=clang -DPA_FUZZ=ON" >&2; exit 2; }
mkdir -p "$B/corpus/$T" "$B/crashes/$T"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exec nice -n 19 "$B/fuzz/$T" -max_total_time="$S" -timeout=10 -rss_limit_mb=2048 \
  -malloc_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$B/crashes/$T/" "$@" \
  "$B/corpus/$T" "fuzz/corpus/$T"
