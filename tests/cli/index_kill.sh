#!/usr/bin/env bash
# Crash test for `partifact finalize` and `partifact build`: SIGKILL each at random moments over
# many runs. Afterwards the index directory is either absent (the work in progress lives under
# INDEX.partial-XXXXXX / INDEX.build-XXXXXX, never under INDEX) or complete and exactly the index
# an uninterrupted run writes (index-info accepts it; both files byte-identical) - never
# anything in between. A rerun then completes, with the same index, and removes the work
# directories the killed run left.
PA=$1; T=$2; RUNS=${3:-12}
rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"
export OMP_NUM_THREADS=1 # steadier timing on a shared machine
"$PA" gen-vectors --out "$T/v.fvecs" --rows 100000 --dim 32 --clusters 40 --seed 9 >/dev/null
"$PA" train --input "$T/v.fvecs" --partitions 64 --sub-vectors 8 --max-iters 3 --out "$T/m.lance" >/dev/null
"$PA" encode --input "$T/v.fvecs" --model "$T/m.lance" --out "$T/a" --memory 3MiB --buckets 16 >/dev/null
fin() { "$PA" finalize --artifact "$T/a" --out "$1" --memory 1MiB; }
bld() { "$PA" build --input "$T/v.fvecs" --out "$1" --partitions 64 --sub-vectors 8 --max-iters 3 --pq-iters 3 --seed 5 --memory 8MiB; }

# one command, killed RUNS times; $1 names it, $2 is the function that runs it uninterrupted
kill_runs() {
  local what=$1 run=$2 complete=0 absent=0 other=0
  expect_exit 0 $run "$T/ref-$what"
  local start took max
  start=$(date +%s%N); $run "$T/timing" >/dev/null 2>&1; took=$(( ($(date +%s%N) - start) / 1000000 ))
  rm -rf "$T/timing"
  max=$(( took * 12 / 10 + 20 )) # within the run, and now and then just after it
  for i in $(seq 1 "$RUNS"); do
    local d="$T/$what$i" pid ms
    # started directly, so that $! is partifact itself
    if [ "$what" = finalize ]; then
      "$PA" finalize --artifact "$T/a" --out "$d" --memory 1MiB >/dev/null 2>&1 &
    else
      "$PA" build --input "$T/v.fvecs" --out "$d" --partitions 64 --sub-vectors 8 --max-iters 3 \
          --pq-iters 3 --seed 5 --memory 8MiB >/dev/null 2>&1 &
    fi
    pid=$!
    ms=$(( (RANDOM * 7 + i * 131) % max ))
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if [ ! -e "$d" ]; then
      absent=$((absent+1))
    elif "$PA" index-info "$d" >/dev/null 2>&1 && cmp -s "$d/index.idx" "$T/ref-$what/index.idx" \
         && cmp -s "$d/auxiliary.idx" "$T/ref-$what/auxiliary.idx"; then
      complete=$((complete+1))
    else
      other=$((other+1)); echo "$what run $i (killed after ${ms} ms) left a $d that is not the complete index:"
      ls -la "$d"
    fi
    if [ ! -e "$d" ]; then # a rerun completes, with the same index, and removes the leftovers
      expect_exit 0 $run "$d"
      expect_exit 0 cmp "$d/auxiliary.idx" "$T/ref-$what/auxiliary.idx"
      expect_exit 0 cmp "$d/index.idx" "$T/ref-$what/index.idx"
      left=$(ls -d "$d".partial-* "$d".build-* 2>/dev/null)
      if [ -n "$left" ]; then
        echo "the rerun of $what left the killed run's work behind: $left"; fail=$((fail+1))
      fi
    fi
    rm -rf "$d" "$d".partial-* "$d".build-*
  done
  echo "$what kills: $RUNS (one run takes ${took} ms, killed within ${max} ms), complete: $complete, absent: $absent, anything else: $other"
  [ $other -eq 0 ] && pass=$((pass+1)) || fail=$((fail+1))
}
kill_runs finalize fin
kill_runs build bld

# finalize --force over an existing index, killed at random moments: the index is always there
# and complete (the old one or the new one; both are the reference's bytes), and a rerun
# removes what the killed run left beside it
replaced=0
took=$(( $(date +%s%N) / 1000000 )); fin "$T/timing" >/dev/null 2>&1; took=$(( $(date +%s%N) / 1000000 - took ))
for i in $(seq 1 "$RUNS"); do
  d="$T/force$i"
  cp -r "$T/ref-finalize" "$d"
  "$PA" finalize --artifact "$T/a" --out "$d" --memory 1MiB --force >/dev/null 2>&1 &
  pid=$!
  ms=$(( (RANDOM * 7 + i * 131) % (took * 12 / 10 + 20) ))
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
  kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  if "$PA" index-info "$d" >/dev/null 2>&1 && cmp -s "$d/index.idx" "$T/ref-finalize/index.idx" &&
     cmp -s "$d/auxiliary.idx" "$T/ref-finalize/auxiliary.idx"; then
    replaced=$((replaced+1))
  else
    echo "finalize --force run $i (killed after ${ms} ms) left $d incomplete:"; ls -la "$d"
  fi
  expect_exit 0 "$PA" finalize --artifact "$T/a" --out "$d" --memory 1MiB --force
  left=$(ls -d "$d".partial-* 2>/dev/null)
  [ -z "$left" ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "the rerun left: $left"; }
  rm -rf "$d" "$d".partial-*
done
echo "finalize --force kills: $RUNS, index complete after each: $replaced"
[ "$replaced" -eq "$RUNS" ] && pass=$((pass+1)) || fail=$((fail+1))
finish
