#!/usr/bin/env bash
# The default example (make demo), end to end as far as the stages that exist today:
#   generate 200,000 clustered vectors (dimension 128), train an IVF_PQ model on them, encode
#   every row into a partition artifact under a 64 MiB budget, inspect it, read every partition
#   back, and verify it; then show the Lance files underneath.
# (Finalizing the artifact into an index, search and recall come with the index stage.)
set -euo pipefail
BUILD=${1:-build}
PA="$BUILD/partifact"
OUT=${DEMO_OUT:-demo-out}
rm -rf "$OUT"; mkdir -p "$OUT"
echo "== 1. data: 200,000 clustered vectors of dimension 128"
"$PA" gen-vectors --out "$OUT/base.fvecs" --rows 200000 --dim 128 --clusters 500 --seed 7
echo
echo "== 2. train: 256 partitions, 16 sub-vectors (then time assign + encode of every row)"
"$PA" train --input "$OUT/base.fvecs" --partitions 256 --sub-vectors 16 --out "$OUT/model.lance" --encode
echo
echo "== 3. encode into a partition artifact (64 MiB budget, cpu backend)"
"$PA" encode --input "$OUT/base.fvecs" --model "$OUT/model.lance" --out "$OUT/artifact" --memory 64MiB
echo
echo "== 4. inspect, read every partition back, verify"
"$PA" inspect --read "$OUT/artifact"
"$PA" verify "$OUT/artifact"
echo
echo "== 5. the Lance files underneath"
"$PA" lance-info "$OUT/model.lance"
"$PA" lance-info "$OUT/artifact/partitions/bucket-00000.lance"
