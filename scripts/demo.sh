#!/usr/bin/env bash
# The default example (make demo), end to end:
#   generate 200,000 clustered vectors (dimension 128) and 1,000 queries from the same
#   distribution; train an IVF_PQ model; encode every row into a partition artifact under a
#   64 MiB budget; inspect and verify the artifact; finalize it into an index; compute exact
#   ground truth; search at several nprobes and print recall@10 and QPS; then do the same in
#   one command with `partifact build`.
set -euo pipefail
BUILD=${1:-build}
PA="$BUILD/partifact"
OUT=${DEMO_OUT:-demo-out}
rm -rf "$OUT"; mkdir -p "$OUT"
echo "== 1. data: 200,000 clustered vectors of dimension 128, and 1,000 queries"
"$PA" gen-vectors --out "$OUT/base.fvecs" --rows 200000 --dim 128 --clusters 500 --seed 7
"$PA" gen-vectors --out "$OUT/queries.fvecs" --rows 1000 --dim 128 --clusters 500 --seed 7 --first-row 200000
echo
echo "== 2. train: 256 partitions, 16 sub-vectors"
"$PA" train --input "$OUT/base.fvecs" --partitions 256 --sub-vectors 16 --out "$OUT/model.lance"
echo
echo "== 3. encode every row into a partition artifact (64 MiB budget, cpu backend)"
"$PA" encode --input "$OUT/base.fvecs" --model "$OUT/model.lance" --out "$OUT/artifact" --memory 64MiB
"$PA" inspect "$OUT/artifact"
"$PA" verify "$OUT/artifact"
echo
echo "== 4. finalize the index from the artifact (each partition's ranges read once)"
"$PA" finalize --artifact "$OUT/artifact" --out "$OUT/index"
"$PA" index-info "$OUT/index"
echo
echo "== 5. exact ground truth, then search: recall@10 and QPS at several nprobes"
"$PA" groundtruth --input "$OUT/base.fvecs" --queries "$OUT/queries.fvecs" -k 10 --out "$OUT/gt.ivecs"
for np in 1 5 20; do
  "$PA" search --index "$OUT/index" --queries "$OUT/queries.fvecs" -k 10 --nprobes $np \
      --groundtruth "$OUT/gt.ivecs"
done
echo "   with refine (re-rank the best 100 by exact distance):"
"$PA" search --index "$OUT/index" --queries "$OUT/queries.fvecs" -k 10 --nprobes 20 \
    --refine-factor 10 --input "$OUT/base.fvecs" --groundtruth "$OUT/gt.ivecs"
echo
echo "== 6. the same in one command (defaults: sqrt(rows) partitions, dim/8 sub-vectors)"
"$PA" build --input "$OUT/base.fvecs" --out "$OUT/index2"
"$PA" search --index "$OUT/index2" --queries "$OUT/queries.fvecs" -k 10 --nprobes 20 \
    --refine-factor 10 --input "$OUT/base.fvecs" --groundtruth "$OUT/gt.ivecs"
