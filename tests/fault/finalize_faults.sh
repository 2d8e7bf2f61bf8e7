#!/usr/bin/env bash
# Fault injection into `partifact finalize`, both paths (LD_PRELOAD libpafault.so): failing
# pwrite (ENOSPC, EIO) at many points of the index files (and, in the re-group path, the spilled
# runs), every fsync, the rename that commits the index, and short writes. Each failure must end
# in exit 1 (an I/O failure) with one line naming the error, leave no INDEX (nor its INDEX.partial-* work
# directory, nor spill files), and a retry must succeed with exactly the index an undisturbed
# run writes; short writes must still give that index.
PA=$1; SHIM=$2; T=$3
rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/../cli/lib.sh"
export OMP_NUM_THREADS=1
"$PA" gen-vectors --out "$T/v.fvecs" --rows 30000 --dim 16 --clusters 20 --seed 3 >/dev/null
"$PA" train --input "$T/v.fvecs" --partitions 16 --sub-vectors 4 --max-iters 3 --out "$T/m.lance" >/dev/null
"$PA" encode --input "$T/v.fvecs" --model "$T/m.lance" --out "$T/a" --memory 464KiB --batch 1024 --buckets 8 >/dev/null
"$PA" export-rows --artifact "$T/a" --out "$T/rows.lance" --shuffle 3 >/dev/null
mkdir -p "$T/tmp"
fin_artifact() { "$PA" finalize --artifact "$T/a" --out "$1" --memory 256KiB; }
# 256 KiB: the rows do not fit, so sorted runs are spilled to $T/tmp and merged
fin_rows() { "$PA" finalize --rows "$T/rows.lance" --model "$T/m.lance" --out "$1" --memory 256KiB --tmp "$T/tmp"; }
faults=0; clean=0
check_fault() { # PATH OP AT ERRNO EXPECT
  local d="$T/i-$1-$2-$3-$4"
  PA_FAULT_OP=$2 PA_FAULT_AT=$3 PA_FAULT_ERRNO=$4 LD_PRELOAD="$SHIM" fin_$1 "$d" >"$T/out" 2>"$T/err"
  local rc=$? lines; lines=$(wc -l <"$T/err")
  faults=$((faults+1))
  local left; left=$(ls -d "$d" "$d".partial-* 2>/dev/null; ls "$T/tmp")
  if [ $rc -eq 1 ] && [ "$lines" -eq 1 ] && grep -q "$5" "$T/err" && [ -z "$left" ]; then
    pass=$((pass+1)); clean=$((clean+1))
  else
    fail=$((fail+1)); echo "FAIL: finalize --$1, $2 #$3 $4: rc=$rc, left: $left"; cat "$T/err"
  fi
  expect_exit 0 fin_$1 "$d" # the retry succeeds, with the same index
  expect_exit 0 cmp "$d/index.idx" "$T/ref/index.idx"
  expect_exit 0 cmp "$d/auxiliary.idx" "$T/ref/auxiliary.idx"
  rm -rf "$d" "$d".partial-*
}
expect_exit 0 fin_artifact "$T/ref"
for path in artifact rows; do
  rm -rf "$T/count"; PA_FAULT_LOG="$T/count.log" LD_PRELOAD="$SHIM" fin_$path "$T/count" >/dev/null 2>&1
  read -r _ np _ nf _ nr <"$T/count.log"
  rm -rf "$T/count"
  echo "an undisturbed finalize --$path makes $np pwrite, $nf fsync and $nr rename calls"
  for n in 1 2 $((np / 3)) $((np / 2)) $((np - 1)) "$np"; do check_fault $path pwrite "$n" ENOSPC "No space left on device"; done
  for n in 3 $((np * 2 / 3)); do check_fault $path pwrite "$n" EIO "Input/output error"; done
  for n in $(seq 1 "$nf"); do check_fault $path fsync "$n" EIO "Input/output error"; done
  for n in $(seq 1 "$nr"); do check_fault $path rename "$n" EIO "rename"; done
  PA_FAULT_OP=short LD_PRELOAD="$SHIM" fin_$path "$T/short" >/dev/null 2>&1
  expect_exit 0 cmp "$T/short/index.idx" "$T/ref/index.idx"
  expect_exit 0 cmp "$T/short/auxiliary.idx" "$T/ref/auxiliary.idx"
  rm -rf "$T/short"
done
echo "finalize faults injected: $faults, clean failures: $clean"
finish
