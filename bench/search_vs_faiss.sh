#!/usr/bin/env bash
# Search vs FAISS (issue 13, "Search"): recall@10 against QPS and batch-1 latency, partifact
# beside FAISS built from source for this CPU (bench/faiss_build.sh; FAISS_PYTHONPATH), on the
# same data, queries and exact ground truth (partifact groundtruth: the exact top 10 of each
# query), P=256 partitions:
#   partifact: 8-bit (M sub-vectors, as build_vs_faiss.sh: 16; 128-dim gen and 784-dim
#     Fashion-MNIST alike), 4-bit fast scan (2M sub-vectors, or the largest even divisor of the
#     dimension below: 32 and 28) with --rerank F for each F of RERANKS, and with
#     --refine-factor R (exact distances to the original vectors, --input) for each R of
#     PA_REFINE and each F of RERANKS, the 8-bit index with each R of REFINE8 (partifact's
#     grid of R is denser than FAISS's: its best configuration at a FAISS point's recall may
#     be any of them);
#   FAISS 1.15: IndexIVFPQ (IVF256,PQ16), IndexIVFPQFastScan IVF256,PQ32x4fs (the vectors) and
#     IVF256,PQ32x4fsr (residuals, as partifact encodes), each fast-scan one also wrapped in
#     IndexRefineFlat with k_factor R for each R of REFINE (exact distances, as --refine-factor);
# each at every nprobes of NPROBES:
#   - batch: SEARCH_QUERIES queries (10,000) in one search on THREADS threads (2), RUNS passes
#     (3), the median pass's QPS (partifact search --repeat; FAISS after one warm-up pass);
#   - batch 1: the first LAT_QUERIES queries (1,000) each alone on one thread, p50 and p99 of
#     each of RUNS runs, medians (partifact search --batch 1 --threads 1; FAISS
#     index.search(q[i:i+1]) from Python, whose per-call overhead is measured on an IndexFlatL2
#     holding one vector and printed beside).
# The indexes are trained on the same seed's sample sizes and iterations (bench/faiss_common.py).
# Results: WORK/results.jsonl; the tables (markdown, for BENCHMARKS.md) on stdout and in
# WORK/report.md; the plot in bench/search_vs_faiss.png (recall on x, QPS on a log y; PLOT).
# Usage: bench/search_vs_faiss.sh [BUILD_DIR]; env RUNS (3), WORK (bench/out/search_vs_faiss),
#   DATASETS ("gen fashion"; "tiny": 20,000 x 32, P=16, a smoke test), NPROBES ("1 2 4 8 16 32
#   64"), REFINE (FAISS's k_factors: "2 4 8"), PA_REFINE (partifact's 4-bit refine factors:
#   "2 3 4 6 8"), REFINE8 (the refine factors of the 8-bit index: "4"), RERANKS ("2"),
#   SEARCH_QUERIES (10000), LAT_QUERIES (1000), THREADS (2), FAISS_CONFIGS ("ivfpq8 x4fs x4fsr"),
#   PLOT (bench/search_vs_faiss.png), FAISS_PYTHONPATH, FAISS_CORRECTNESS_ONLY, FAISS_BLAS
#   (bench/faiss_peer.sh)
set -euo pipefail
BUILD=${1:-build}; PA="$(cd "$BUILD" && pwd)/partifact"
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/datasets.sh"; . "$HERE/faiss_peer.sh"
"$PA" --version --verbose # the CPU, BLAS kernels and sgemm rate
faiss_peer_header         # the FAISS measured; stops here where it is a generic build
RUNS=${RUNS:-3}; WORK=${WORK:-bench/out/search_vs_faiss}; DATASETS=${DATASETS:-"gen fashion"}
NPROBES=${NPROBES:-"1 2 4 8 16 32 64"}; REFINE=${REFINE-"2 4 8"}; REFINE8=${REFINE8-"4"}
PA_REFINE=${PA_REFINE-"2 3 4 6 8"}
RERANKS=${RERANKS:-2}; SEARCH_QUERIES=${SEARCH_QUERIES:-10000}; LAT_QUERIES=${LAT_QUERIES:-1000}
THREADS=${THREADS:-2}; FAISS_CONFIGS=${FAISS_CONFIGS:-"ivfpq8 x4fs x4fsr"}
PLOT=${PLOT:-$HERE/search_vs_faiss.png}
mkdir -p "$WORK"; WORK=$(cd "$WORK" && pwd)
results="$WORK/results.jsonl"; : > "$results"
echo "load before: $(uptime)" | tee "$WORK/load.txt"
for ds in $DATASETS; do
  case $ds in
    tiny) base="$WORK/tiny.fvecs"; P=16; M=8
      [ -f "$base" ] || "$PA" gen-vectors --out "$base" --rows 20000 --dim 32 --clusters 50 --seed 1 >/dev/null ;;
    *) bench_dataset "$ds" ;;
  esac
  q="$WORK/$ds-queries-$SEARCH_QUERIES.fvecs"; gt="$WORK/$ds-gt-$SEARCH_QUERIES.ivecs"
  bench_queries "$ds" "$SEARCH_QUERIES" "$q"
  [ -f "$gt" ] || "$PA" groundtruth --input "$base" --queries "$q" -k 10 --out "$gt" >/dev/null
  dim=$(od -An -t d4 -N 4 "$base" | tr -d ' ')
  q1="$WORK/$ds-queries-$LAT_QUERIES.fvecs"
  head -c $(( LAT_QUERIES * (4 + dim * 4) )) "$q" > "$q1"
  m4=$((M * 2)); while [ $(( dim % m4 )) -ne 0 ] || [ $(( m4 % 2 )) -ne 0 ]; do m4=$((m4 - 1)); done
  for bits in 8 4; do # the indexes, once per data set (seed 1)
    idx="$WORK/$ds-pa$bits"; m=$M; extra=()
    [ "$bits" = 4 ] && m=$m4 && extra=(--bits 4)
    [ -d "$idx" ] || "$PA" build --input "$base" --out "$idx" --partitions $P --sub-vectors $m \
        "${extra[@]}" --seed 1 --work-dir "$WORK/work" >/dev/null
    rm -rf "$WORK/work"
  done
  point() { # point CONFIG BITS NPROBES REFINE [options]: one partifact point into results
    local cfg=$1 bits=$2 np=$3 rf=$4; shift 4
    local opts=(--index "$WORK/$ds-pa$bits" -k 10 --nprobes "$np" --repeat "$RUNS" --json "$@")
    [ "$rf" -gt 1 ] && opts+=(--refine-factor "$rf" --input "$base")
    "$PA" search "${opts[@]}" --queries "$q" --groundtruth "$gt" --threads "$THREADS" > "$WORK/b.json"
    "$PA" search "${opts[@]}" --queries "$q1" --batch 1 --threads 1 > "$WORK/l.json"
    python3 - "$ds" "$cfg" "$np" "$rf" "$WORK/b.json" "$WORK/l.json" >> "$results" <<'PY'
import json, sys
ds, cfg, np_, rf, b, l = sys.argv[1:]
b, l = json.load(open(b)), json.load(open(l))
print(json.dumps({"data": ds, "side": "partifact", "config": cfg, "nprobes": int(np_),
                  "refine": int(rf), "recall": b["recall"], "qps": b["qps"],
                  "p50_us": l["latency_p50_us"], "p99_us": l["latency_p99_us"],
                  "codes_scanned": b["codes_scanned"]}))
PY
    tail -1 "$results" >&2
  }
  for np in $NPROBES; do
    point "partifact 8-bit PQ$M" 8 "$np" 1
    for f in $RERANKS; do
      point "partifact 4-bit PQ${m4} fast scan, rerank $f" 4 "$np" 1 --rerank "$f"
    done
  done
  for rf in $PA_REFINE; do
    for np in $NPROBES; do
      for f in $RERANKS; do
        point "partifact 4-bit PQ${m4} fast scan, rerank $f + refine" 4 "$np" "$rf" --rerank "$f"
      done
    done
  done
  for rf in $REFINE8; do
    for np in $NPROBES; do
      point "partifact 8-bit PQ$M + refine" 8 "$np" "$rf"
    done
  done
  # FAISS: one process per data set (the indexes built once), the same points
  $FAISS_PY "$HERE/faiss_search_curve.py" "$base" "$q" "$gt" $P $M $m4 10 1 \
      "$(echo $NPROBES | tr ' ' ,)" "$(echo $REFINE | tr ' ' ,)" "$RUNS" "$LAT_QUERIES" "$THREADS" \
      "$(echo $FAISS_CONFIGS | tr ' ' ,)" > "$WORK/faiss.jsonl"
  python3 - "$ds" "$WORK/faiss.jsonl" >> "$results" <<'PY'
import json, statistics as s, sys
ds = sys.argv[1]
for line in open(sys.argv[2]):
    r = json.loads(line)
    if "faiss" in r:
        o = r["python_overhead_us"]
        print(json.dumps({"data": ds, "side": "faiss-header", "faiss": r["faiss"],
                          "python_overhead_p50_us": s.median(o["p50_runs"]),
                          "python_overhead_p99_us": s.median(o["p99_runs"])}))
        continue
    print(json.dumps({"data": ds, "side": "faiss", "config": r["config"], "nprobes": r["nprobes"],
                      "refine": r["k_factor"], "recall": r["recall"],
                      "qps": s.median(r["qps_runs"]), "p50_us": s.median(r["p50_us_runs"]),
                      "p99_us": s.median(r["p99_us_runs"])}))
PY
done
echo "load after: $(uptime)" | tee -a "$WORK/load.txt"
/usr/bin/python3 "$HERE/search_vs_faiss_report.py" "$results" "$FAISS_HEADER" "$WORK/load.txt" \
    "$PLOT" | tee "$WORK/report.md"
