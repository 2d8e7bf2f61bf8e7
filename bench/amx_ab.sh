#!/usr/bin/env bash
# AMX against the fp32 path (issue 13): `partifact build` and `partifact train --encode` on each
# data set (bench/datasets.sh: gen = 1M x 128, fashion = Fashion-MNIST 60k x 784; P=256, M=16,
# 8-bit), with AMX (the default where the CPU has it) and with PA_AMX=0, alternating off, on,
# off, on, ... RUNS of each; per-phase seconds from --json, medians, and whether both wrote the
# same model (byte for byte). Also the AMX kernel's rate and sgemm's (--version --json).
#   bench/amx_ab.sh [BUILD_DIR]    (RUNS=3, WORK=bench/out/amx_ab, DATASETS="gen fashion")
set -euo pipefail
BUILD=${1:-build}; PA="$(cd "$BUILD" && pwd)/partifact"
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/datasets.sh"
RUNS=${RUNS:-3}; WORK=${WORK:-bench/out/amx_ab}; DATASETS=${DATASETS:-"gen fashion"}
mkdir -p "$WORK"; WORK=$(cd "$WORK" && pwd)
"$PA" --version --verbose
echo "load before: $(uptime)"
results="$WORK/results.jsonl"; : > "$results"
for ds in $DATASETS; do
  bench_dataset "$ds"
  for run in $(seq 1 "$RUNS"); do
    for amx in 0 1; do
      env=(); [ "$amx" = 0 ] && env=(PA_AMX=0)
      rm -rf "$WORK/idx" "$WORK/work"
      env "${env[@]}" "$PA" build --input "$base" --out "$WORK/idx" --partitions $P --sub-vectors $M \
          --work-dir "$WORK/work" --keep-work --json > "$WORK/build.json"
      env "${env[@]}" "$PA" train --input "$base" --partitions $P --sub-vectors $M --encode \
          --out "$WORK/model-$amx.lance" --force --json > "$WORK/train.json"
      python3 - "$ds" "$amx" "$run" "$WORK/build.json" "$WORK/train.json" >> "$results" <<'PY'
import json, sys
ds, amx, run, b, t = sys.argv[1:]
print(json.dumps({"data": ds, "amx": amx == "1", "run": int(run), "build": json.load(open(b)),
                  "train": json.load(open(t))}))
PY
    done
    cmp -s "$WORK/model-0.lance" "$WORK/model-1.lance" && same=yes || same=NO
    echo "$ds run $run: models with and without AMX byte-identical: $same" >&2
  done
done
echo "load after: $(uptime)"
"$PA" --version --json | python3 -c "import json,sys; v=json.load(sys.stdin); print('sgemm', v['sgemm']['gflops'], 'GFLOP/s; amx', v['amx']['state'], v['amx']['gflops'], 'GFLOP/s fp32-equivalent')"
python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = [("build", "seconds"), ("build", "train_seconds"), ("build", "ivf_seconds"), ("build", "pq_seconds"),
        ("build", "encode_seconds"), ("build", "assign_encode_seconds"), ("train", "train_seconds"),
        ("train", "ivf_seconds"), ("train", "pq_seconds"), ("train", "assign_encode_seconds")]
for ds in dict.fromkeys(r["data"] for r in rows):
    print(f"\n{ds}: medians of {max(r['run'] for r in rows if r['data'] == ds)} runs (seconds)")
    print(f"{'phase':32} {'PA_AMX=0':>9} {'AMX':>9} {'speed-up':>9}")
    for cmd, k in keys:
        v = [statistics.median(r[cmd][k] for r in rows if r["data"] == ds and r["amx"] == a) for a in (False, True)]
        print(f"{cmd + ' ' + k:32} {v[0]:9.3f} {v[1]:9.3f} {v[0] / v[1] if v[1] else 0:8.2f}x")
PY
