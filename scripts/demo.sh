#!/usr/bin/env bash
# The default example: write a generated Lance file and read it back with a summary.
# (Later stages extend this into: build an IVF_PQ index over generated data, search it,
# print recall.)
set -euo pipefail
BUILD=${1:-build}
OUT=${DEMO_OUT:-demo-out}
mkdir -p "$OUT"
"$BUILD/partifact" lance-gen --out "$OUT/demo.lance" --rows 200000 --dim 128
"$BUILD/partifact" lance-info "$OUT/demo.lance"
