#!/usr/bin/env bash
# search --memory over an index of 400,000 x 32 rows (M 16, 64 partitions; 9.6 MB of rows and
# codes in memory) with a budget of half of those, on 2 threads, 3 passes (partitions evicted
# and read again by either thread): the results (--out) are byte-identical to the unbounded
# search's, and the peak RSS (/usr/bin/time -v) is at most the budget plus the fixed cost.
# Fixed cost: the peak RSS of the same search over a 3,000-row index of the same shape at
# --memory 256KiB (the process, its libraries, OpenBLAS's and OpenMP's threads, the queries,
# the search's arrays, pa_index_search_memory: about 24 MB here), plus 1.5 MiB for the Lance
# reader's buffers (measured: 0.3 to 0.5 MiB over). The unbounded search peaks about 9.5 MB
# above the fixed part, over the limit; the cache malloc'd per partition (before the arena)
# peaked 3.7 to 4.2 MiB over it.
#   search_memory.sh PARTIFACT SCRATCH
set -uo pipefail
PA=$1; T=$2; rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"
SLACK_KB=1536

peak_kb() { # peak_kb OUT INDEX [--memory SIZE]: searches, prints its peak RSS in KiB
  local out=$1 idx=$2; shift 2
  /usr/bin/time -v -o "$T/time.txt" "$PA" search --index "$idx" --queries "$T/q.fvecs" -k 10 \
      --nprobes 8 --threads 2 --repeat 3 --out "$out" "$@" >"$T/search.out" 2>"$T/search.err" ||
      { cat "$T/search.err" >&2; echo 0; return; }
  sed -n 's/.*Maximum resident set size (kbytes): *//p' "$T/time.txt"
}

expect_exit 0 "$PA" gen-vectors --out "$T/big.fvecs" --rows 400000 --dim 32 --clusters 64 --seed 3
expect_exit 0 "$PA" gen-vectors --out "$T/small.fvecs" --rows 3000 --dim 32 --clusters 64 --seed 3
expect_exit 0 "$PA" gen-vectors --out "$T/q.fvecs" --rows 1000 --dim 32 --clusters 64 --seed 4
for n in big small; do
  expect_exit 0 "$PA" build --input "$T/$n.fvecs" --out "$T/$n.idx" --partitions 64 \
      --sub-vectors 16 --max-iters 3 --pq-iters 3
done
rm -f "$T/big.fvecs" "$T/small.fvecs"
rows=$("$PA" index-info "$T/big.idx" --json | sed -n 's/.*"rows":\([0-9]*\).*/\1/p')
budget=$((rows * (8 + 16) / 2)); budget_kb=$((budget / 1024))

fixed=$(peak_kb "$T/small.ivecs" "$T/small.idx" --memory 256KiB)
full=$(peak_kb "$T/full.ivecs" "$T/big.idx")
peak=$(peak_kb "$T/budget.ivecs" "$T/big.idx" --memory "$budget")
limit=$((budget_kb + fixed + SLACK_KB))
echo "search over $rows rows: unbounded peak RSS $full KiB; --memory" \
     "$budget: $peak KiB; fixed cost (3000 rows) $fixed KiB; limit $limit KiB"
if [ "$fixed" -gt 0 ] && [ "$peak" -gt 0 ] && [ "$peak" -le "$limit" ]; then pass=$((pass+1))
else fail=$((fail+1)); echo "FAIL: peak RSS $peak KiB is over the budget + the fixed cost ($limit KiB)"; fi
if [ -s "$T/full.ivecs" ] && cmp -s "$T/full.ivecs" "$T/budget.ivecs"; then pass=$((pass+1))
else fail=$((fail+1)); echo "FAIL: search --memory $budget gives other results than the unbounded search"; fi
# index-info --memory opens it the same way: the same parameters and partition sizes
info() { "$PA" index-info "$T/big.idx" --json "$@" | sed 's/"bytes":[0-9]*,//; s/,"cache_bytes":[0-9]*//'; }
if [ "$(info)" = "$(info --memory "$budget")" ]; then pass=$((pass+1))
else fail=$((fail+1)); echo "FAIL: index-info --memory differs"; info; info --memory "$budget"; fi
rm -rf "$T/big.idx"
finish
