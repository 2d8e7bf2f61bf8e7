#!/usr/bin/env bash
# The 4-bit fast scan, A against B (two builds' partifact binaries), on one index, in paired
# alternating runs (A B A B ...): issue 13's low-nprobes points.
#   - batch: all of Q in one search on THREADS threads (2), the median of --repeat REPEAT (5)
#     passes; QPS per run, then the median and range of the RUNS (3) runs of each side;
#   - batch 1: the first LAT queries (1,000) each alone on one thread, p50 and p99 per run,
#     medians and ranges of the runs;
#   - the ids of A and B compared (cmp of --out) at every point: the change must keep them.
# at each nprobes of NPROBES ("1 2 4") and rerank factor of RERANKS ("1 2").
#   bench/fastscan_ab.sh A_PARTIFACT B_PARTIFACT INDEX QUERIES.fvecs [GROUNDTRUTH.ivecs]
# Results on stdout, one line a point and side. The data: bench/search_vs_faiss.sh's gen set
# (1M x 128, P 256, PQ32x4: WORK/gen-pa4, WORK/gen-queries-10000.fvecs, WORK/gen-gt-10000.ivecs).
set -euo pipefail
A=$1 B=$2 IDX=$3 Q=$4 GT=${5:-}
THREADS=${THREADS:-2} REPEAT=${REPEAT:-5} RUNS=${RUNS:-3} LAT=${LAT:-1000}
NPROBES=${NPROBES:-"1 2 4"} RERANKS=${RERANKS:-"1 2"}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
dim=$(od -An -t d4 -N 4 "$Q" | tr -d ' ')
head -c $((LAT * (4 + dim * 4))) "$Q" > "$T/q1.fvecs"
gt=(); [ -n "$GT" ] && gt=(--groundtruth "$GT")
med() { sort -g | awk '{v[NR]=$1} END {printf "%s [%s, %s]", v[int((NR+1)/2)], v[1], v[NR]}'; }
echo "load before: $(uptime | sed 's/.*load average: //')"
for np in $NPROBES; do
  for rr in $RERANKS; do
    : > "$T/A.qps"; : > "$T/B.qps"; : > "$T/A.p50"; : > "$T/B.p50"; : > "$T/A.p99"; : > "$T/B.p99"
    for ((r = 0; r < RUNS; r++)); do
      for s in A B; do
        pa=${!s}
        "$pa" search --index "$IDX" --queries "$Q" "${gt[@]}" -k 10 --nprobes "$np" --rerank "$rr" \
            --threads "$THREADS" --repeat "$REPEAT" --json --out "$T/$s.ivecs" --force > "$T/b.json"
        python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["qps"]); print(j.get("recall", ""), file=open(sys.argv[2], "w"))' \
            "$T/b.json" "$T/$s.recall" >> "$T/$s.qps"
        "$pa" search --index "$IDX" --queries "$T/q1.fvecs" -k 10 --nprobes "$np" --rerank "$rr" \
            --threads 1 --batch 1 --json > "$T/l.json"
        python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["latency_p50_us"], file=open(sys.argv[2], "a")); print(j["latency_p99_us"], file=open(sys.argv[3], "a"))' \
            "$T/l.json" "$T/$s.p50" "$T/$s.p99"
      done
      cmp -s "$T/A.ivecs" "$T/B.ivecs" && same=same || same=DIFFERENT
    done
    for s in A B; do
      echo "$s nprobes $np rerank $rr: QPS $(med < "$T/$s.qps"), recall $(cat "$T/$s.recall")," \
           "batch-1 p50 $(med < "$T/$s.p50") us, p99 $(med < "$T/$s.p99") us; ids $same"
    done
  done
done
echo "load after: $(uptime | sed 's/.*load average: //')"
