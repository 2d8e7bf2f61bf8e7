#!/usr/bin/env bash
# Fault injection into `partifact build`'s reads of its input (LD_PRELOAD libpafault.so,
# PA_FAULT_OP=pread: the input's Nth read and every later one fail, so that the retry of a
# batch read on one thread after a failure on another fails too): in the training sample's
# reads, at the first, a middle and the last batch of the encode stage (whose batches are read
# on two threads). Each failure must end in exit 1 with one line naming the input and the
# error, and leave nothing beside the input (no index, no work directory); a retry must give
# exactly the index an undisturbed build gives. A build's scratch artifact is not fsynced.
PA=$1; SHIM=$2; T=$3
rm -rf "$T"; mkdir -p "$T/d"
. "$(dirname "$0")/../cli/lib.sh"
export OMP_NUM_THREADS=2
V="$T/d/v.fvecs"
"$PA" gen-vectors --out "$V" --rows 30000 --dim 16 --clusters 20 --seed 3 >/dev/null
# a small budget: batches of a few thousand rows
b() { local o=$1; shift; "$PA" build --input "$V" --out "$o" --partitions 16 --sub-vectors 4 --max-iters 3 --pq-iters 3 --memory 4MiB "$@"; }
tr() { "$PA" train --input "$V" --partitions 16 --sub-vectors 4 --max-iters 3 --pq-iters 3 --out "$1"; }
expect_exit 0 b "$T/ref"
# the reads of an undisturbed build, and of its training alone (the sample's reads)
PA_FAULT_FILE="$V" PA_FAULT_LOG="$T/count.log" LD_PRELOAD="$SHIM" tr "$T/m.lance" >/dev/null 2>&1
ntrain=$(sed -n 's/^pread //p' "$T/count.log")
PA_FAULT_FILE="$V" PA_FAULT_LOG="$T/count.log" LD_PRELOAD="$SHIM" b "$T/count" >/dev/null 2>&1
nall=$(sed -n 's/^pread //p' "$T/count.log")
rm -rf "$T/count" "$T/m.lance"
nenc=$((nall - ntrain))
echo "an undisturbed build reads its input $nall times, $ntrain of them for the training sample"
[ "$nenc" -ge 6 ] || { echo "FAIL: only $nenc reads in the encode stage"; exit 1; }
for n in 1 $((ntrain / 2)) $((ntrain + 1)) $((ntrain + nenc / 2)) "$nall"; do
  expect_err 1 "$V: read of" env PA_FAULT_OP=pread PA_FAULT_AT="$n" PA_FAULT_FILE="$V" \
      LD_PRELOAD="$SHIM" "$PA" build --input "$V" --out "$T/d/idx" --partitions 16 --sub-vectors 4 \
      --max-iters 3 --pq-iters 3 --memory 4MiB
  grep -q "Input/output error" "$T/err" || { fail=$((fail+1)); echo "FAIL: read #$n: $(cat "$T/err")"; }
  left=$(ls -A "$T/d")
  if [ "$left" = v.fvecs ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: read #$n left: $left"; fi
  expect_exit 0 b "$T/d/idx" # the retry succeeds, with the same index
  expect_exit 0 diff -r "$T/d/idx" "$T/ref"
  rm -rf "$T/d/idx"
done
# the artifact in the work directory is removed once finalized: its 16 bucket files and their
# directory are not fsynced, unless the work directory is kept; the index is the same
fsyncs() { read -r _ _ _ n _ <"$T/count.log"; echo "$n"; }
PA_FAULT_LOG="$T/count.log" LD_PRELOAD="$SHIM" b "$T/s1" >/dev/null 2>&1; scratch=$(fsyncs)
PA_FAULT_LOG="$T/count.log" LD_PRELOAD="$SHIM" b "$T/s2" --keep-work --work-dir "$T/kept" >/dev/null 2>&1
kept=$(fsyncs)
echo "fsync calls: $scratch (work directory removed), $kept (kept)"
if [ $((scratch + 17)) -le "$kept" ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: fsyncs $scratch, kept $kept"; fi
expect_exit 0 diff -r "$T/s1" "$T/ref"
expect_exit 0 diff -r "$T/s2" "$T/ref"
expect_exit 0 "$PA" verify "$T/kept/artifact"
finish
