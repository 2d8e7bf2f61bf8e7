#!/usr/bin/env bash
# Fault injection into `partifact commit` (LD_PRELOAD libpafault.so) on a copy of a small table
# LanceDB wrote (tests/bad-inputs/files/table-d8.lance): every pwrite and fsync of a clean
# commit fails in turn (EIO or ENOSPC), and the rename of the version hint. A failure before the
# manifest is published must exit 1 (an I/O failure) with one line and leave every file of the table as it was;
# a failure after it (syncing _versions) must exit 1 saying the version is committed, with the
# index's files in place; the version hint is best effort. A retry (--replace) then succeeds.
PA=$1; SHIM=$2; T=$3
rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/../cli/lib.sh"
SRC=$(cd "$(dirname "$0")/../bad-inputs/files" && pwd)/table-d8.lance
snapshot() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 md5sum); }
fresh() { rm -rf "$T/t.lance"; cp -r "$SRC" "$T/t.lance"; }
fresh
"$PA" build --input "$T/t.lance" --out "$T/idx" --partitions 4 --sub-vectors 2 --max-iters 3 >/dev/null || exit 1
snapshot "$T/t.lance" > "$T/pristine"
commit() { "$PA" commit --index "$T/idx" --table "$T/t.lance" "$@"; }
# how many calls a clean commit makes
PA_FAULT_LOG="$T/counts" LD_PRELOAD="$SHIM" commit >/dev/null || exit 1
read -r npw nfs nrn < <(awk '{print $2, $4, $6}' "$T/counts")
echo "a clean commit: $npw pwrite, $nfs fsync, $nrn rename calls"
untouched=0; committed=0; ignored=0
check_fault() { # OP AT ERRNO
  fresh
  PA_FAULT_OP=$1 PA_FAULT_AT=$2 PA_FAULT_ERRNO=$3 LD_PRELOAD="$SHIM" commit >"$T/out" 2>"$T/err"
  local rc=$? lines; lines=$(wc -l <"$T/err")
  snapshot "$T/t.lance" > "$T/now"
  if [ $rc -eq 1 ] && [ "$lines" -eq 1 ] && cmp -s "$T/pristine" "$T/now"; then
    pass=$((pass+1)); untouched=$((untouched+1))
  elif [ $rc -eq 1 ] && [ "$lines" -eq 1 ] && grep -q "is committed, but may not survive a crash" "$T/err" &&
       [ -s "$(ls "$T"/t.lance/_indices/*/auxiliary.idx)" ]; then
    pass=$((pass+1)); committed=$((committed+1))
  elif [ $rc -eq 0 ]; then
    pass=$((pass+1)); ignored=$((ignored+1))
  else
    fail=$((fail+1)); echo "FAIL: $1 #$2 $3: rc=$rc"; cat "$T/err"; diff "$T/pristine" "$T/now" | head -5
  fi
  expect_exit 0 commit --replace   # the retry succeeds
  expect_exit 0 "$PA" table-info "$T/t.lance"
  expect_out "vector_idx: IVF_PQ"
}
for n in $(seq 1 "$npw"); do check_fault pwrite "$n" ENOSPC; done
for n in $(seq 1 "$nfs"); do check_fault fsync "$n" EIO; done
for n in $(seq 1 "$nrn"); do check_fault rename "$n" EIO; done
echo "faults: $untouched left the table untouched, $committed after publishing, $ignored ignored (the hint)"
[ "$untouched" -gt 0 ] && [ "$committed" -gt 0 ] || { echo "FAIL: expected both kinds of failure"; fail=$((fail+1)); }
finish
