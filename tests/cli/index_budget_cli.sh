#!/usr/bin/env bash
# index-info names what a memory budget must hold: memory_fixed_bytes (held whatever the
# budget) and memory_min_bytes (those and the largest partition): search --memory accepts
# exactly memory_min_bytes (with the unbounded search's results) and refuses one byte less,
# naming the largest partition; index-info and search --json name the cache's share of a budget,
# what it held at most (never more than that share) and the search's own arrays
# (search_memory_bytes, pa_index_search_memory).
PA=$1; T=$2; rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"
check() { if [ "$2" = "$3" ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $1: got '$2', want '$3'"; fi; }
num() { sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" "$1"; }
expect_exit 0 "$PA" gen-vectors --out "$T/x.fvecs" --rows 6000 --dim 32 --clusters 30 --seed 7
expect_exit 0 "$PA" gen-vectors --out "$T/q.fvecs" --rows 40 --dim 32 --clusters 30 --seed 8
expect_exit 0 "$PA" build --input "$T/x.fvecs" --out "$T/idx" --partitions 24 --sub-vectors 8 \
    --max-iters 3 --pq-iters 3
expect_exit 0 "$PA" index-info "$T/idx" --json
cp "$T/out" "$T/info.json"
fixed=$(num "$T/info.json" memory_fixed_bytes); least=$(num "$T/info.json" memory_min_bytes)
maxp=$(num "$T/info.json" max_partition_rows)
# the fixed part: centroids and norms, codebook and norms, partition offsets and lengths, the
# cache's entries (a size the test does not pin); the least: those and the largest partition's
# row ids (8 bytes) and codes (8 bytes) a row
check "fixed part named" "$([ "${fixed:-0}" -gt $((24 * 32 * 4 + 256 * 32 * 4)) ] && echo yes)" yes
check "least = fixed + largest partition" "$least" "$((fixed + maxp * 16))"
smem=$(num "$T/info.json" search_memory_bytes)
check "search memory named" "$([ "${smem:-0}" -gt 0 ] && echo yes)" yes
expect_exit 0 "$PA" index-info "$T/idx"
expect_out "  with a memory budget: $fixed bytes held whatever the budget, $least bytes the least budget"
expect_out "  a search call of 8192 queries (-k 10, --nprobes 20, the default threads) allocates $smem bytes beside the budget"
# opened within the least budget, the cache gets the largest partition's bytes, and a search
# through it never holds more (its counter is exact); the search's arrays are named
expect_exit 0 "$PA" index-info "$T/idx" --memory "$least" --json
check "index-info --memory: the cache's share" "$(num "$T/out" cache_bytes)" "$((least - fixed))"
expect_exit 0 "$PA" index-info "$T/idx" --memory "$least"
expect_out "  opened within $least bytes: $((least - fixed)) of them for the partition cache"
expect_exit 0 "$PA" search --index "$T/idx" --queries "$T/q.fvecs" --nprobes 24 --threads 2 \
    --memory "$least" --json
cp "$T/out" "$T/search.json"
check "search --memory: the cache's share" "$(num "$T/search.json" cache_bytes)" "$((least - fixed))"
check "search --memory: the cache held the largest partition, no more" \
    "$(num "$T/search.json" cache_peak_bytes)" "$((least - fixed))"
check "search --memory: partitions read" \
    "$([ "$(num "$T/search.json" cache_reads)" -ge 24 ] && echo yes)" yes
check "search --memory: the budget" "$(num "$T/search.json" memory_bytes)" "$least"
check "search: its arrays named" \
    "$([ "$(num "$T/search.json" search_memory_bytes)" -gt 0 ] && echo yes)" yes
expect_exit 0 "$PA" search --index "$T/idx" --queries "$T/q.fvecs" --nprobes 24 --out "$T/all.ivecs"
expect_exit 0 "$PA" search --index "$T/idx" --queries "$T/q.fvecs" --nprobes 24 --memory "$least" \
    --out "$T/least.ivecs"
expect_exit 0 cmp "$T/all.ivecs" "$T/least.ivecs"
expect_err 2 "more than the $((least - 1 - fixed)) bytes the memory budget of $((least - 1)) bytes leaves beside the $fixed held whatever the budget; raise memory_bytes (--memory)" \
    "$PA" search --index "$T/idx" --queries "$T/q.fvecs" --memory "$((least - 1))"
finish
