#!/usr/bin/env bash
# PQ training and encoding, A against B (issue 13): `partifact train --encode --json` on the
# bench data sets (bench/datasets.sh: gen 1M x 128, Fashion-MNIST 60k x 784; P=256), 8-bit
# M=16 and 4-bit (M=32 on gen, M=28 on Fashion-MNIST), runs alternating A, B, A, B ... (RUNS
# of each), medians of pq_seconds, assign_encode_seconds and train_seconds, and each side's
# pq_mse (the same seed: the same model gives the same error; a different one says so).
# A and B are a binary and an environment each: PA_A / PA_B name the binaries (by default this
# build, both), ENV_A / ENV_B their environments (NAME=VALUE words; empty: none); e.g.
# PA_A=/work/main/build/partifact compares the branch start with this build, and
# ENV_B=PA_KERNEL=avx2 this build's AVX-512 kernels with its AVX2 ones.
# Usage: bench/pq_ab.sh [BUILD_DIR]; env RUNS (3), WORK (bench/out/pq_ab), DATASETS
#        ("gen fashion"), CONFIGS ("8 4"), PA_A, PA_B, ENV_A (""), ENV_B ("")
set -euo pipefail
BUILD=${1:-build}; PA="$(cd "$BUILD" && pwd)/partifact"
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/datasets.sh"
RUNS=${RUNS:-3}; WORK=${WORK:-bench/out/pq_ab}; DATASETS=${DATASETS:-"gen fashion"}
CONFIGS=${CONFIGS:-"8 4"}
PA_A=${PA_A:-$PA}; PA_B=${PA_B:-$PA}
ENV_A=${ENV_A-}; ENV_B=${ENV_B-} # empty: none
mkdir -p "$WORK"
"$PA" --version --verbose
uptime
echo "A: $ENV_A $PA_A"
echo "B: $ENV_B $PA_B"
printf '%-8s %-10s %-2s %8s %8s %8s %14s\n' dataset config ab pq_s enc_s train_s pq_mse
for ds in $DATASETS; do
  bench_dataset "$ds"
  for bits in $CONFIGS; do
    m=$M
    if [ "$bits" = 4 ]; then m=32; [ "$ds" = fashion ] && m=28; fi
    out="$WORK/$ds-$bits"
    : > "$out-A.jsonl"; : > "$out-B.jsonl"
    for _ in $(seq "$RUNS"); do
      for side in A B; do
        if [ $side = A ]; then bin=$PA_A; envs=$ENV_A; else bin=$PA_B; envs=$ENV_B; fi
        # shellcheck disable=SC2086 # envs: words of NAME=VALUE
        env $envs "$bin" train --input "$base" --out "$WORK/model-$side.lance" --force --encode \
          --json --partitions "$P" --sub-vectors "$m" --bits "$bits" >> "$out-$side.jsonl"
      done
    done
    for side in A B; do
      python3 - "$out-$side.jsonl" "$ds" "$bits/M=$m" "$side" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
med = lambda k: statistics.median(r[k] for r in rows)
mses = sorted({round(r["pq_mse"], 9) for r in rows})
print(f"{sys.argv[2]:<8} {sys.argv[3]:<10} {sys.argv[4]:<2} {med('pq_seconds'):8.3f} "
      f"{med('assign_encode_seconds'):8.3f} {med('train_seconds'):8.3f} "
      f"{' '.join(f'{v:.6f}' for v in mses):>14}")
EOF
    done
  done
done
uptime
