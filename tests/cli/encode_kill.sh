#!/usr/bin/env bash
# Crash test for `partifact encode`: SIGKILL it at random moments (reading the model and the
# input, encoding, flushing buckets, writing footers and the manifest) over many runs. After
# each kill `partifact verify` must either accept a complete artifact that is exactly the one an
# uninterrupted run writes (exit 0, same manifest) or refuse it as incomplete (exit 2,
# "incomplete artifact", no manifest.json) - never anything in between. A rerun into the same
# directory then completes, with the same result.
PA=$1; T=$2; RUNS=${3:-20}
rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"
export OMP_NUM_THREADS=1 # steadier timing on a shared machine; the writer is single-threaded anyway
"$PA" gen-vectors --out "$T/v.fvecs" --rows 200000 --dim 32 --clusters 40 --seed 9 >/dev/null
"$PA" train --input "$T/v.fvecs" --partitions 64 --sub-vectors 8 --max-iters 3 --out "$T/m.lance" >/dev/null
# small buffers: every bucket is flushed more than once
enc() { "$PA" encode --input "$T/v.fvecs" --model "$T/m.lance" --out "$1" --memory 3MiB --buckets 16; }
expect_exit 0 enc "$T/ref"
expect_exit 0 "$PA" verify "$T/ref"
start=$(date +%s%N); enc "$T/timing" >/dev/null 2>&1; took=$(( ($(date +%s%N) - start) / 1000000 ))
rm -rf "$T/timing"
max=$(( took * 12 / 10 + 20 )) # kill within the run, and now and then just after it
complete=0; incomplete=0; other=0
for i in $(seq 1 "$RUNS"); do
  d="$T/a$i"
  # started directly (not through enc, a shell function): $! must be partifact itself, or the
  # kill would hit a subshell and leave partifact running
  "$PA" encode --input "$T/v.fvecs" --model "$T/m.lance" --out "$d" --memory 3MiB --buckets 16 \
      >/dev/null 2>&1 &
  pid=$!
  ms=$(( (RANDOM * 7 + i * 131) % max ))
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  "$PA" verify "$d" >"$T/vout" 2>"$T/verr"; rc=$?
  if [ $rc -eq 0 ] && grep -q "OK: 200000 rows" "$T/vout" && cmp -s "$d/manifest.json" "$T/ref/manifest.json"; then
    complete=$((complete+1))
  elif [ $rc -eq 2 ] && grep -q "incomplete artifact" "$T/verr" && [ ! -f "$d/manifest.json" ]; then
    incomplete=$((incomplete+1))
  else
    other=$((other+1)); echo "run $i (killed after ${ms} ms): verify exited $rc:"; cat "$T/vout" "$T/verr"
  fi
  # a rerun into the same directory completes, with the same artifact
  if [ ! -f "$d/manifest.json" ]; then
    expect_exit 0 enc "$d"
    expect_exit 0 "$PA" verify "$d"
    expect_exit 0 cmp "$d/manifest.json" "$T/ref/manifest.json"
  fi
  rm -rf "$d"
done
echo "encode kills: $RUNS (one run takes ${took} ms, killed within ${max} ms), complete: $complete, incomplete: $incomplete, anything else: $other"
[ $other -eq 0 ] && pass=$((pass+1)) || fail=$((fail+1))
finish
