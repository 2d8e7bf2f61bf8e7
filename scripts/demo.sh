#!/usr/bin/env bash
# The default example (make demo). What exists today:
#   1. write a Lance file of generated rows (vectors, ids, PQ-code-shaped columns) and read it
#      back with a summary;
#   2. stream 2,000,000 synthetic (row_id, part_id, code) rows into a partition artifact under a
#      64 MiB budget, inspect it, read every partition back, and verify it end to end.
# (The IVF_PQ build + search + recall lands with the index stage.)
set -euo pipefail
BUILD=${1:-build}
PA="$BUILD/partifact"
OUT=${DEMO_OUT:-demo-out}
rm -rf "$OUT"; mkdir -p "$OUT"
echo "== Lance file: write and read back"
"$PA" lance-gen --out "$OUT/demo.lance" --rows 200000 --dim 128
"$PA" lance-info "$OUT/demo.lance"
echo
echo "== Partition artifact: stream, inspect, read back, verify"
"$PA" artifact-gen --out "$OUT/artifact" --rows 2000000 --partitions 1024 --sub-vectors 16 --memory 64MiB
"$PA" inspect --read "$OUT/artifact"
"$PA" verify "$OUT/artifact"
