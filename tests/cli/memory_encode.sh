#!/usr/bin/env bash
# encode from a Lance table of dimension 1024 holds --memory 32MiB: its peak RSS (/usr/bin/time -v)
# is at most 32 MiB plus the process's fixed cost, measured as the peak RSS of the same command
# on a 100-row table (about 10 MiB: the binary, its libraries, OpenBLAS's and OpenMP's threads).
# At branch start the table scan read 65,536-row batches whatever the budget: 140 MB here.
PA=$1; T=$2; TO_DATASET=$3; rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"
BUDGET_KB=32768

peak_kb() { # peak_kb OUT_DIR INPUT: encodes INPUT with --memory 32MiB, prints its peak RSS in KiB
  /usr/bin/time -v "$PA" encode --input "$2" --model "$T/model.lance" --out "$1" --memory 32MiB \
      --json >"$T/enc.json" 2>"$T/time.txt" || { cat "$T/time.txt" >&2; echo 0; return; }
  sed -n 's/.*Maximum resident set size (kbytes): *//p' "$T/time.txt"
}

expect_exit 0 "$PA" gen-vectors --out "$T/train.fvecs" --rows 2000 --dim 1024 --clusters 20 --seed 5
expect_exit 0 "$PA" train --input "$T/train.fvecs" --partitions 16 --sub-vectors 16 --max-iters 2 \
    --pq-iters 2 --out "$T/model.lance"
expect_exit 0 "$PA" gen-vectors --out "$T/tiny.fvecs" --rows 100 --dim 1024 --clusters 5 --seed 6
expect_exit 0 "$TO_DATASET" "$T/tiny.fvecs" "$T/tiny.lance"
expect_exit 0 "$PA" gen-vectors --out "$T/big.fvecs" --rows 30000 --dim 1024 --clusters 50 --seed 7
expect_exit 0 "$TO_DATASET" "$T/big.fvecs" "$T/big.lance"
rm -f "$T/big.fvecs"

fixed=$(peak_kb "$T/a-tiny" "$T/tiny.lance")
peak=$(peak_kb "$T/a-big" "$T/big.lance")
expect_out_file() { if grep -qF -- "$1" "$T/enc.json"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: encode --json lacks $1"; cat "$T/enc.json"; fi; }
expect_out_file '"rows":30000,'
expect_exit 0 "$PA" verify "$T/a-big"
echo "encode --memory 32MiB from a 30000 x 1024 Lance table: peak RSS $peak KiB; fixed cost" \
     "(100-row table) $fixed KiB; limit $((BUDGET_KB + fixed)) KiB"
if [ "$fixed" -gt 0 ] && [ "$peak" -gt 0 ] && [ "$peak" -le $((BUDGET_KB + fixed)) ]; then pass=$((pass+1))
else fail=$((fail+1)); echo "FAIL: peak RSS $peak KiB is over 32 MiB + the fixed cost $fixed KiB"; fi
rm -rf "$T/big.lance" "$T/a-big"
finish
