#!/usr/bin/env bash
# Fault injection into `partifact encode` (LD_PRELOAD libpafault.so): failing pwrite (ENOSPC,
# EIO) at many points from the first bucket page to the manifest, every fsync (bucket files,
# the directories, the manifest) and the rename that commits, and short writes. Each failure
# must end in exit 1 (an I/O failure) with one line naming the error and leave nothing that looks complete (no
# manifest.json: verify says incomplete); a retry must succeed and give exactly the artifact an
# undisturbed run gives; short writes must still give that artifact.
PA=$1; SHIM=$2; T=$3
rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/../cli/lib.sh"
export OMP_NUM_THREADS=1 # small batches; threads would only add noise here
"$PA" gen-vectors --out "$T/v.fvecs" --rows 30000 --dim 16 --clusters 20 --seed 3 >/dev/null
"$PA" train --input "$T/v.fvecs" --partitions 16 --sub-vectors 4 --max-iters 3 --out "$T/m.lance" >/dev/null
# a small writer budget: every bucket is flushed several times
enc() { "$PA" encode --input "$T/v.fvecs" --model "$T/m.lance" --out "$1" --memory 464KiB --batch 1024 --buckets 8; }
expect_exit 0 enc "$T/ref"
# how many pwrite/fsync/rename calls an undisturbed run makes
rm -rf "$T/count"; PA_FAULT_LOG="$T/count.log" LD_PRELOAD="$SHIM" enc "$T/count" >/dev/null 2>&1
read -r _ np _ nf _ nr <"$T/count.log"
echo "an undisturbed encode makes $np pwrite, $nf fsync and $nr rename calls"
faults=0; clean=0
check_fault() { # OP AT ERRNO EXPECT
  local d="$T/f-$1-$2-$3"
  PA_FAULT_OP=$1 PA_FAULT_AT=$2 PA_FAULT_ERRNO=$3 LD_PRELOAD="$SHIM" enc "$d" >"$T/out" 2>"$T/err"
  local rc=$? lines; lines=$(wc -l <"$T/err")
  faults=$((faults+1))
  if [ $rc -eq 1 ] && [ "$lines" -eq 1 ] && grep -q "$4" "$T/err" && [ ! -e "$d/manifest.json" ]; then
    pass=$((pass+1)); clean=$((clean+1))
  else
    fail=$((fail+1)); echo "FAIL: $1 #$2 $3: rc=$rc, manifest: $(ls "$d/manifest.json" 2>&1)"; cat "$T/err"
  fi
  expect_err 2 "incomplete artifact" "$PA" verify "$d"
  expect_exit 0 enc "$d"           # the retry succeeds, with the same result
  expect_exit 0 "$PA" verify "$d"
  expect_exit 0 cmp "$d/manifest.json" "$T/ref/manifest.json"
  rm -rf "$d"
}
for n in 1 2 3 $((np / 4)) $((np / 2)) $((np - 1)); do check_fault pwrite "$n" ENOSPC "No space left on device"; done
for n in 4 $((np / 3)) $((np * 3 / 4)) "$np"; do check_fault pwrite "$n" EIO "Input/output error"; done
for n in $(seq 1 "$nf"); do check_fault fsync "$n" EIO "Input/output error"; done
check_fault fsync "$nf" ENOSPC "No space left on device"
for n in $(seq 1 "$nr"); do check_fault rename "$n" EIO "cannot rename"; done
# short writes are retried: the artifact is complete and the same
PA_FAULT_OP=short LD_PRELOAD="$SHIM" enc "$T/short" >/dev/null 2>&1
expect_exit 0 "$PA" verify "$T/short"
expect_exit 0 cmp "$T/short/manifest.json" "$T/ref/manifest.json"
echo "encode faults injected: $faults, clean failures: $clean"
finish
