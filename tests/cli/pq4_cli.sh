#!/usr/bin/env bash
# 4-bit PQ through the CLI, stage by stage and in one build: train --bits 4 records 4-bit codes
# and reports its reconstruction error, encode writes an artifact of M/2-byte codes, finalize
# and index-info say 4 bits, search finds the exact neighbours above a recall floor (refine
# lifts it to 0.95), search with a memory budget gives the in-memory answers, build --bits 4
# writes the same index as the stages, and the refusals (odd M, other bits, a model of other
# bits than the artifact's) are one line each. The test plugin (--accelerator ref) encodes
# 4-bit codes too.
#   pq4_cli.sh PARTIFACT WORK PLUGINS
set -u
PA=$1; T=$2; PLUGINS=$3
rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"
recall() { sed -n 's/.*"recall":\([0-9.]*\).*/\1/p' "$T/out"; }
at_least() { # at_least WHAT VALUE FLOOR
  if awk "BEGIN{exit !($2 >= $3)}"; then pass=$((pass+1)); else fail=$((fail+1))
    echo "FAIL: $1: $2, expected at least $3"; fi
}

expect_exit 0 "$PA" gen-vectors --out "$T/base.fvecs" --rows 20000 --dim 32 --clusters 50 --seed 3
expect_exit 0 "$PA" gen-vectors --out "$T/q.fvecs" --rows 100 --dim 32 --clusters 50 --seed 3 --first-row 20000
expect_exit 0 "$PA" groundtruth --input "$T/base.fvecs" --queries "$T/q.fvecs" -k 10 --out "$T/gt.ivecs"

# the stages
expect_exit 0 "$PA" train --input "$T/base.fvecs" --out "$T/m4.lance" --partitions 16 --sub-vectors 16 \
    --bits 4 --encode --json
expect_out '"sub_vectors":16'
mse4=$(sed -n 's/.*"pq_mse":\([0-9.e+-]*\).*/\1/p' "$T/out")
expect_exit 0 "$PA" train --input "$T/base.fvecs" --out "$T/m8.lance" --partitions 16 --sub-vectors 16 \
    --encode --json
mse8=$(sed -n 's/.*"pq_mse":\([0-9.e+-]*\).*/\1/p' "$T/out")
# 16 codewords per sub-space reconstruct worse than 256, but they do reconstruct
at_least "4-bit PQ error above the 8-bit one" "$mse4" "$mse8"
expect_exit 0 "$PA" encode --input "$T/base.fvecs" --model "$T/m4.lance" --out "$T/a4"
expect_exit 0 "$PA" inspect "$T/a4" --json
expect_out '"code_bytes":8,"num_bits":4'
expect_exit 0 "$PA" verify "$T/a4"
expect_exit 0 "$PA" finalize --artifact "$T/a4" --out "$T/i4"
expect_exit 0 "$PA" index-info "$T/i4"
expect_out "dimension 32, 16 partitions, 16 sub-vectors of 4 bits"
expect_exit 0 "$PA" index-info "$T/i4" --json
expect_out '"num_bits":4,"rows":20000'
expect_exit 0 "$PA" lance-info "$T/i4/auxiliary.idx"
expect_out "fixed_size_list:uint8:8"
expect_exit 0 "$PA" search --index "$T/i4" --queries "$T/q.fvecs" -k 10 --nprobes 4 \
    --groundtruth "$T/gt.ivecs" --json
at_least "4-bit recall@10, nprobes 4" "$(recall)" 0.4 # 0.453 seen
expect_exit 0 "$PA" search --index "$T/i4" --queries "$T/q.fvecs" -k 10 --nprobes 4 --refine-factor 10 \
    --input "$T/base.fvecs" --groundtruth "$T/gt.ivecs" --json
at_least "4-bit recall@10, nprobes 4, refine x10" "$(recall)" 0.95
# the test plugin's 4-bit codes, through the backend ABI: an index as good
expect_exit 0 "$PA" encode --input "$T/base.fvecs" --model "$T/m4.lance" --out "$T/a4ref" \
    --accelerator ref --backend-path "$PLUGINS"
expect_exit 0 "$PA" finalize --artifact "$T/a4ref" --out "$T/i4ref"
expect_exit 0 "$PA" search --index "$T/i4ref" --queries "$T/q.fvecs" -k 10 --nprobes 4 \
    --groundtruth "$T/gt.ivecs" --json
at_least "4-bit recall@10 of the ref backend's codes, nprobes 4" "$(recall)" 0.4
# with a memory budget (partitions read on demand): the same ids and distances
expect_exit 0 "$PA" search --index "$T/i4" --queries "$T/q.fvecs" -k 10 --nprobes 4 --out "$T/mem.npy"
expect_exit 0 "$PA" search --index "$T/i4" --queries "$T/q.fvecs" -k 10 --nprobes 4 --memory 1MiB \
    --out "$T/budget.npy"
if cmp -s "$T/mem.npy" "$T/budget.npy"; then pass=$((pass+1)); else fail=$((fail+1))
  echo "FAIL: search with --memory 1MiB differs from the in-memory search"; fi

# the whole build: the same index as the stages (same seed, same sample)
expect_exit 0 "$PA" build --input "$T/base.fvecs" --out "$T/b4" --partitions 16 --sub-vectors 16 --bits 4
for f in index.idx auxiliary.idx; do
  if cmp -s "$T/i4/$f" "$T/b4/$f"; then pass=$((pass+1)); else fail=$((fail+1))
    echo "FAIL: build --bits 4 wrote another $f than train + encode + finalize"; fi
done
# an odd default sub-vector count is doubled for 4-bit codes (dimension 8: 1 -> 2)
expect_exit 0 "$PA" gen-vectors --out "$T/v8.fvecs" --rows 2000 --dim 8 --clusters 8 --seed 1
expect_exit 0 "$PA" build --input "$T/v8.fvecs" --out "$T/b8" --partitions 4 --bits 4 --json
expect_out '"sub_vectors":2'

# refusals
expect_err 2 "partifact train: num_sub_vectors must be even for 4-bit codes (two codes per byte), got 1 (--sub-vectors)" \
    "$PA" train --input "$T/v8.fvecs" --out "$T/x.lance" --partitions 4 --sub-vectors 1 --bits 4
expect_err 2 "partifact build: num_bits must be 8 or 4, got 6 (--bits)" \
    "$PA" build --input "$T/v8.fvecs" --out "$T/x" --bits 6
expect_err 2 "partifact finalize: model $T/m8.lance has 8-bit codes, but artifact $T/a4 has 4-bit codes" \
    "$PA" finalize --artifact "$T/a4" --model "$T/m8.lance" --out "$T/x"
finish
