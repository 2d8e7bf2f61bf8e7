#!/usr/bin/env bash
# What the coarse k-means' iteration cap buys: `partifact build` with --max-iters N for several N
# and seeds on the index benchmark's data, then recall@10 at a few nprobes and the build time.
# The evidence behind the default of 10 (FAISS's): recall does not move beyond it.
# Needs the data of bench/index_bench.sh (run it first, or its data step).
# Usage: bench/ivf_iters.sh [BUILD_DIR]; env WORK (bench/out/index), DATASETS ("gen fashion"),
#        ITERS ("5 10 20 50"), SEEDS ("1 2 3"), NPROBES ("1 5 20")
set -euo pipefail
BUILD=${1:-build}; PA="$(cd "$BUILD" && pwd)/partifact"
"$PA" --version --verbose # the CPU, BLAS kernels and sgemm rate of every figure below
WORK=${WORK:-bench/out/index}; DATASETS=${DATASETS:-"gen fashion"}
ITERS=${ITERS:-"5 10 20 50"}; SEEDS=${SEEDS:-"1 2 3"}; NPROBES=${NPROBES:-"1 5 20"}
WORK=$(cd "$WORK" && pwd)
jget() { python3 -c "import json,sys;print(json.load(open(sys.argv[1]))$2)" "$1"; }
out="$WORK/ivf_iters.jsonl"; : > "$out"
for ds in $DATASETS; do
  case $ds in
    gen) base="$WORK/gen-1m-128.fvecs"; queries="$WORK/gen-queries.fvecs" ;;
    fashion) base="$WORK/fashion-train.fvecs"; queries="$WORK/fashion-queries.fvecs" ;;
  esac
  gt="$WORK/$ds-gt.ivecs"
  for it in $ITERS; do
    for seed in $SEEDS; do
      rm -rf "$WORK/it-idx"
      "$PA" build --input "$base" --out "$WORK/it-idx" --partitions 256 --sub-vectors 16 \
          --max-iters "$it" --seed "$seed" --json > "$WORK/it.json"
      rec=""
      for np in $NPROBES; do
        "$PA" search --index "$WORK/it-idx" --queries "$queries" -k 10 --nprobes "$np" \
            --groundtruth "$gt" --json > "$WORK/it-s.json"
        rec+="$(jget "$WORK/it-s.json" "['recall']"),"
      done
      echo "{\"data\":\"$ds\",\"max_iters\":$it,\"seed\":$seed,\"ivf_iters\":$(jget "$WORK/it.json" "['ivf_iters']"),\"build\":$(jget "$WORK/it.json" "['seconds']"),\"recall\":[${rec%,}]}" >> "$out"
    done
  done
done
rm -rf "$WORK/it-idx"
python3 - "$out" "$NPROBES" <<'PY'
import json, sys, statistics as st
rows = [json.loads(l) for l in open(sys.argv[1])]
nps = sys.argv[2].split()
print("| data | --max-iters | iterations run | build (median) | " +
      " | ".join(f"recall@10 nprobes {n} (median, min-max)" for n in nps) + " |")
print("|---|---|---|---|" + "---|" * len(nps))
for ds in dict.fromkeys(r["data"] for r in rows):
    for it in dict.fromkeys(r["max_iters"] for r in rows if r["data"] == ds):
        g = [r for r in rows if r["data"] == ds and r["max_iters"] == it]
        its = sorted(r["ivf_iters"] for r in g)
        cells = []
        for i in range(len(nps)):
            v = [r["recall"][i] for r in g]
            cells.append(f"{st.median(v):.4f} ({min(v):.4f}-{max(v):.4f})")
        print(f"| {ds} | {it} | {its[0]}-{its[-1]} | {st.median(r['build'] for r in g):.2f} s | " +
              " | ".join(cells) + " |")
PY
