#!/usr/bin/env bash
# Backend benchmark, side by side in one run: partifact train + assign + encode, FAISS
# IndexIVFPQ train + add, and LanceDB's IVF_PQ index build, on the same data and parameters;
# RUNS runs of each, medians, ratios, and PQ reconstruction error (partifact vs FAISS).
# Usage: bench/backend_bench.sh [BUILD_DIR]; env RUNS (3), WORK (bench/out/backend),
#        DATASETS ("gen fashion"), FAISS_PYTHONPATH, FAISS_CORRECTNESS_ONLY, FAISS_BLAS
#        (bench/faiss_peer.sh)
set -euo pipefail
BUILD=${1:-build}; PA="$(cd "$BUILD" && pwd)/partifact"
"$PA" --version --verbose # the CPU, BLAS kernels and sgemm rate of every figure below
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/faiss_peer.sh"
faiss_peer_header # the FAISS measured (FAISS_PYTHONPATH); stops here where it is a generic build
RUNS=${RUNS:-3}; WORK=${WORK:-bench/out/backend}; DATASETS=${DATASETS:-"gen fashion"}
mkdir -p "$WORK"; WORK=$(cd "$WORK" && pwd)
. "$HERE/bench_util.sh" # peak
results="$WORK/results.tsv"; : > "$results"
for ds in $DATASETS; do
  case $ds in
    gen)
      base="$WORK/gen-1m-128.fvecs"; P=256; M=16
      [ -f "$base" ] || "$PA" gen-vectors --out "$base" --rows 1000000 --dim 128 --clusters 1000 --seed 1 >/dev/null ;;
    fashion)
      base="$WORK/fashion-train.fvecs"; P=256; M=16
      [ -f "$base" ] || /usr/bin/python3 "$HERE/fashion_mnist.py" "$base" "$WORK/fashion-test.fvecs" ;;
  esac
  for run in $(seq 1 "$RUNS"); do
    /usr/bin/time -v -o "$WORK/t.txt" "$PA" train --input "$base" --partitions $P --sub-vectors $M \
        --seed $run --out "$WORK/model.lance" --force --encode --json > "$WORK/pa.json"
    pa_s=$(python3 -c "import json;j=json.load(open('$WORK/pa.json'));print(j['train_seconds']+j['assign_encode_seconds'])")
    pa_mse=$(python3 -c "import json;print(json.load(open('$WORK/pa.json'))['pq_mse'])")
    pa_rss=$(peak "$WORK/t.txt")
    /usr/bin/time -v -o "$WORK/t.txt" $FAISS_PY "$HERE/faiss_ivfpq.py" "$base" $P $M $run > "$WORK/faiss.json"
    fa_s=$(python3 -c "import json;print(json.load(open('$WORK/faiss.json'))['total_seconds'])")
    fa_mse=$(python3 -c "import json;print(json.load(open('$WORK/faiss.json'))['pq_mse'])")
    fa_rss=$(peak "$WORK/t.txt")
    /usr/bin/time -v -o "$WORK/t.txt" node "$HERE/lancedb_ivfpq.mjs" "$base" $P $M "$WORK/lancedb" \
        2> >(grep -v ' WARN ' >&2) > "$WORK/ldb.json"
    ld_s=$(python3 -c "import json;print(json.load(open('$WORK/ldb.json'))['index_seconds'])")
    ld_rss=$(peak "$WORK/t.txt")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ds" "$run" "$pa_s" "$fa_s" "$ld_s" \
        "$pa_mse" "$fa_mse" "$pa_rss" "$fa_rss" "$ld_rss" >> "$results"
    echo "$ds run $run: partifact ${pa_s}s (mse $pa_mse), faiss ${fa_s}s (mse $fa_mse), lancedb ${ld_s}s" >&2
  done
done
python3 - "$results" "$FAISS_HEADER" <<'PY'
import sys, statistics as st
rows = [l.split('\t') for l in open(sys.argv[1]).read().splitlines() if l]
print(f"FAISS: {sys.argv[2]}\n")
print("| data | partifact train+assign+encode | FAISS train+add | LanceDB index build | FAISS / partifact | LanceDB / partifact | PQ MSE partifact / FAISS | peak RSS partifact / FAISS / LanceDB |")
print("|---|---|---|---|---|---|---|---|")
for ds in dict.fromkeys(r[0] for r in rows):
    g = [r for r in rows if r[0] == ds]
    med = lambda i: st.median(float(r[i]) for r in g)
    pa, fa, ld = med(2), med(3), med(4)
    name = {"gen": "generated 1,000,000 x 128 (P=256, M=16)", "fashion": "Fashion-MNIST 60,000 x 784 (P=256, M=16)"}[ds]
    print(f"| {name} | {pa:.2f} s | {fa:.2f} s | {ld:.2f} s | {fa/pa:.1f}x | {ld/pa:.1f}x | "
          f"{med(5):.4g} / {med(6):.4g} ({(med(5)/med(6)-1)*100:+.1f}%) | "
          f"{med(7)/1024:.0f} / {med(8)/1024:.0f} / {med(9)/1024:.0f} MiB |")
print(f"\nmedians of {len(rows)//len(set(r[0] for r in rows))} runs per system")
PY
