#!/usr/bin/env bash
# Fault injection into `partifact artifact-gen` (LD_PRELOAD libpafault.so): failing pwrite
# (ENOSPC, EIO) at many points, failing fsync and rename, and short writes. Each failure must
# end in exit 1 (an I/O failure) with one line naming the error, and leave no manifest (verify: incomplete);
# a retry must succeed; short writes must still give an artifact that verifies.
PA=$1; SHIM=$2; T=$3
rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/../cli/lib.sh"
gen() { "$PA" artifact-gen --out "$1" --rows 200000 --partitions 61 --buckets 7 --memory 512KiB; }
faults=0; clean=0
check_fault() { # OP AT ERRNO EXPECT
  local d="$T/f-$1-$2-$3"
  PA_FAULT_OP=$1 PA_FAULT_AT=$2 PA_FAULT_ERRNO=$3 LD_PRELOAD="$SHIM" gen "$d" >"$T/out" 2>"$T/err"
  local rc=$? lines; lines=$(wc -l <"$T/err")
  faults=$((faults+1))
  if [ $rc -eq 1 ] && [ "$lines" -eq 1 ] && grep -q "$4" "$T/err" && [ ! -e "$d/manifest.json" ]; then
    pass=$((pass+1)); clean=$((clean+1))
  else
    fail=$((fail+1)); echo "FAIL: $1 #$2 $3: rc=$rc"; cat "$T/err"
  fi
  expect_err 2 "incomplete artifact" "$PA" verify "$d"
  expect_exit 0 gen "$d"           # the retry succeeds
  expect_exit 0 "$PA" verify "$d"
  rm -rf "$d"
}
for n in 1 2 5 17 60 200; do check_fault pwrite $n ENOSPC "No space left on device"; done
for n in 3 33; do check_fault pwrite $n EIO "Input/output error"; done
for n in 1 4 8; do check_fault fsync $n EIO "fsync failed"; done
check_fault rename 1 EIO "cannot rename"
# short writes are retried: the artifact is complete and correct
PA_FAULT_OP=short LD_PRELOAD="$SHIM" gen "$T/short" >/dev/null 2>&1
expect_exit 0 "$PA" verify "$T/short"
echo "faults injected: $faults, clean failures: $clean"
finish
