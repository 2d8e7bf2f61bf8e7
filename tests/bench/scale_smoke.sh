#!/usr/bin/env bash
# bench/scale_bench.sh in seconds (partifact only, FAISS=0): 4,000 x 128, P=32, both contention
# modes, the growth configurations and search; the report's tables name each of them, a second
# run finds everything cached (no build again, the results unchanged), and no busy loop outlives
# the script.
PA=$1; T=$2; rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/../cli/lib.sh"
BENCH=$(cd "$(dirname "$0")/../../bench" && pwd)
check() { if [ "$2" = "$3" ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $1: got '$2', want '$3'"; fi; }
run() { # in a session of its own (its id in $T/sid), so that what it leaves running is found
  setsid -w bash -c 'echo $$ > "$1/sid"; shift; exec env "$@"' _ "$T" FAISS=0 ROWS=4000 P=32 M=8 \
      RUNS=1 CONTENTION="0 1" QUERIES=50 WORK="$T/work" "$BENCH/scale_bench.sh" "$(dirname "$PA")"
}
expect_exit 0 run
cp "$T/out" "$T/report1"; cp "$T/err" "$T/err1"
expect_out "scale_bench: 4,000 x 128, configs (rows:partitions) 4000:32 400:32 400:2, 1 runs, contention modes 0 1; expected duration about"
expect_out "| 4,000 x 128, P=32, M=8 | machine as it is | "
expect_out "| 4,000 x 128, P=32, M=8 | one busy loop per core | "
expect_out "| 400 → 4,000 rows, P=32 | partifact | "
expect_out "| P=2 → 32, 400 rows | partifact | "
expect_out "| all of it in memory | — | "
expect_out "| --memory the least budget (the fixed cost) | "
# (at this size the quarter is the least budget, and its peak RSS is noise around the fixed cost:
# tests/cli/search_memory.sh checks the bound; here the row is made)
if grep -Eq '^\| --memory a quarter of the index \| [0-9.]+ MiB \| [0-9.]+ MiB \| [0-9.]+ MiB \| (yes|no \(\+[0-9.]+ MiB\)) \| [0-9,]+ \| 0\.[0-9]{3} \|$' "$T/out"; then
  pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: no quarter-budget row"; cat "$T/out"; fi
check "builds run" "$(grep -c '^partifact .* s, peak RSS ' "$T/err1")" 4
check "result lines" "$(wc -l < "$T/work/results.jsonl")" 7
# resumed: nothing runs again
expect_exit 0 run
check "builds run again" "$(grep -c '^partifact .* s, peak RSS ' "$T/err")" 0
check "result lines after the rerun" "$(wc -l < "$T/work/results.jsonl")" 7
if diff <(grep '^|' "$T/report1") <(grep '^|' "$T/out") >/dev/null; then pass=$((pass+1)); else
  fail=$((fail+1)); echo "FAIL: the resumed report differs"; fi
# the busy loops were killed: nothing of the script's session is left
check "processes left" "$(ps -eo sid= | awk -v s="$(cat "$T/sid")" '$1 == s' | wc -l)" 0
finish
