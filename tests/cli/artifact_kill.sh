#!/usr/bin/env bash
# Crash test: SIGKILL `partifact artifact-gen` at random moments over many runs. Afterwards
# `partifact verify` must either accept a complete, correct artifact (exit 0) or refuse it as
# incomplete (exit 2, "incomplete artifact") - never anything in between. Rerunning completes.
PA=$1; T=$2; RUNS=${3:-25}
rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"
complete=0; incomplete=0; other=0
for i in $(seq 1 "$RUNS"); do
  d="$T/a$i"
  # small buffers, so the writer is always mid-flush somewhere
  "$PA" artifact-gen --out "$d" --rows 3000000 --partitions 97 --buckets 13 --memory 1MiB \
      --seed "$i" >/dev/null 2>&1 &
  pid=$!
  # kill after 0..0.45 s (a whole run takes about 0.4 s here)
  sleep "0.$(printf '%03d' $(( (RANDOM * 7 + i * 131) % 450 )))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  "$PA" verify "$d" >"$T/vout" 2>"$T/verr"; rc=$?
  if [ $rc -eq 0 ] && grep -q "OK: 3000000 rows" "$T/vout"; then complete=$((complete+1))
  elif [ $rc -eq 2 ] && grep -q "incomplete artifact" "$T/verr" && [ ! -f "$d/manifest.json" ]; then incomplete=$((incomplete+1))
  else other=$((other+1)); echo "run $i: verify exited $rc:"; cat "$T/vout" "$T/verr"; fi
  # a rerun into the same directory completes (when the first one did not)
  if [ ! -f "$d/manifest.json" ]; then
    expect_exit 0 "$PA" artifact-gen --out "$d" --rows 50000 --partitions 97 --buckets 13 --memory 1MiB
    expect_exit 0 "$PA" verify "$d"
  fi
  rm -rf "$d"
done
echo "kills: $RUNS, complete: $complete, incomplete: $incomplete, anything else: $other"
[ $other -eq 0 ] && pass=$((pass+1)) || fail=$((fail+1))
finish
