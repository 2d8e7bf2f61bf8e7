#!/usr/bin/env bash
# The build's time outside the kernels (issue 13), A/B: `partifact build --json` of binaries A
# and B alternating (A, B, A, B, ...), RUNS of each, on the data sets of bench/datasets.sh;
# medians of the total and of every phase the JSON reports, and of what is outside the kernels:
# the training sample's read (train_seconds - ivf_seconds - pq_seconds), the encode stage's
# reads and artifact writes (read_seconds, write_seconds), finalize, and what no phase holds
# (seconds - train_seconds - encode_seconds - finalize_seconds: opening the input, the model's
# write, the work directory).
# COLD=1: the input is dropped from the page cache before each build (fsync, then
# POSIX_FADV_DONTNEED on the input file alone), so that its reads come from the disk.
# Usage: bench/io_bench.sh [A [B]] (partifact binaries; B defaults to build/partifact, A to B);
#        env RUNS (3), DATASETS ("gen fashion"), WORK (bench/out/io_bench), COLD (0)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
B=$(realpath "${2:-${1:-build/partifact}}"); A=$(realpath "${1:-$B}")
PA=$B; RUNS=${RUNS:-3}; DATASETS=${DATASETS:-"gen fashion"}; COLD=${COLD:-0}
evict() { python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)' "$1"; }
WORK=${WORK:-bench/out/io_bench}; mkdir -p "$WORK"; WORK=$(cd "$WORK" && pwd)
. "$HERE/datasets.sh"
echo "A: $A"; echo "B: $B"; "$B" --version --verbose | head -3; echo "cold input: $COLD"
echo "load before: $(uptime)"
out="$WORK/runs.jsonl"; : > "$out"
for ds in $DATASETS; do
  bench_dataset "$ds"
  [ "$COLD" = 1 ] || cat "$base" > /dev/null # in the page cache, as in the other build benchmarks
  for run in $(seq 1 "$RUNS"); do
    for side in A B; do
      bin=$A; [ "$side" = B ] && bin=$B
      rm -rf "$WORK/idx" "$WORK/work"
      [ "$COLD" = 1 ] && evict "$base"
      "$bin" build --input "$base" --out "$WORK/idx" --partitions "$P" --sub-vectors "$M" \
          --seed "$run" --work-dir "$WORK/work" --json > "$WORK/b.json"
      python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r["data"]=sys.argv[2]; r["side"]=sys.argv[3]; print(json.dumps(r))' \
          "$WORK/b.json" "$ds" "$side" >> "$out"
    done
  done
done
echo "load after: $(uptime)"
rm -rf "$WORK/idx" "$WORK/work"
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = ["seconds", "train_seconds", "ivf_seconds", "pq_seconds", "sample", "encode_seconds",
        "read_seconds", "assign_encode_seconds", "write_seconds", "finalize_seconds", "other"]
for r in rows:
    r["sample"] = r["train_seconds"] - r["ivf_seconds"] - r["pq_seconds"]
    r["other"] = r["seconds"] - r["train_seconds"] - r["encode_seconds"] - r["finalize_seconds"]
for ds in dict.fromkeys(r["data"] for r in rows):
    print(f"\n{ds}: medians of {sum(1 for r in rows if r['data'] == ds and r['side'] == 'A')} runs each (seconds)")
    print(f"{'phase':24} {'A':>8} {'B':>8} {'B-A':>8}")
    for k in keys:
        med = {s: statistics.median(r[k] for r in rows if r["data"] == ds and r["side"] == s) for s in "AB"}
        print(f"{k:24} {med['A']:8.3f} {med['B']:8.3f} {med['B'] - med['A']:+8.3f}")
PY
