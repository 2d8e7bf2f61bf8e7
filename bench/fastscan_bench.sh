#!/usr/bin/env bash
# Search kernels (BENCHMARKS.md, issue 13 "Search kernels"): 200,000 generated rows x 128
# (gen-vectors, 1000 clusters), 256 partitions, a 4-bit index (M 32: 16 code bytes a row, as
# FAISS's PQ32x4fs) and an 8-bit one (M 16: the same 16 bytes); 10,000 queries, k 10.
#   - batch: all 10,000 queries in one search, 2 threads, the median of 3 passes (--repeat 3),
#     QPS and recall@10 against the exact neighbours, at nprobes 5, 10, 20, 40;
#   - batch 1: each of 1,000 queries alone, 1 thread, p50 and p99 per run, the median of 3 runs
#     (bench/python_search_c.c), at nprobes 20;
# for the 4-bit fast scan with each kernel (PA_KERNEL=scalar, avx2, the CPU's best), with
# refine (x4), the 4-bit plain scan (--no-fast-scan), and the 8-bit scan before this work
# (BEFORE, a build of the branch-start commit) and after it.
#   bench/fastscan_bench.sh [BUILD [BEFORE_BUILD]]     (defaults: build, none)
# ROWS and QUERIES (environment) shrink it for a trial run. Results:
# bench/out/fastscan/ROWS/results.txt
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-build}" && pwd)
BB=${2:-}
[ -n "$BB" ] && BB=$(cd "$BB" && pwd)
PA=$B/partifact
ROWS=${ROWS:-200000} QUERIES=${QUERIES:-10000}
W=$ROOT/bench/out/fastscan/$ROWS; mkdir -p "$W"
OUT=$W/results.txt

if [ ! -d "$W/idx4" ]; then
  $PA gen-vectors --out "$W/base.fvecs" --rows "$ROWS" --dim 128 --seed 1 >/dev/null
  $PA gen-vectors --out "$W/q.fvecs" --rows "$QUERIES" --dim 128 --seed 1 --first-row 1000000 \
      >/dev/null
  $PA groundtruth --input "$W/base.fvecs" --queries "$W/q.fvecs" -k 10 --out "$W/gt.ivecs" >/dev/null
  $PA build --input "$W/base.fvecs" --out "$W/idx8" --partitions 256 --sub-vectors 16 >/dev/null
  $PA build --input "$W/base.fvecs" --out "$W/idx4" --partitions 256 --sub-vectors 32 \
      --bits 4 >/dev/null
  head -c $((1000 * (4 + 128 * 4))) "$W/q.fvecs" >"$W/q1000.fvecs"
fi
lat_tool() { # lat_tool BUILD NAME: the batch-1 latency program on BUILD's header and library
  gcc -O2 -std=c17 -Wall -Wextra -I"$1/../include" "$ROOT/bench/python_search_c.c" -L"$1" \
      -lpartifact -Wl,-rpath,"$1" -o "$W/$2"
}
lat_tool "$B" lat_after
[ -n "$BB" ] && lat_tool "$BB" lat_before

batch() { # batch LABEL PARTIFACT INDEX NPROBES [options]: "LABEL nprobes N qps Q recall R"
  local label=$1 pa=$2 idx=$3 np=$4; shift 4
  local line
  line=$("$pa" search --index "$W/$idx" --queries "$W/q.fvecs" --groundtruth "$W/gt.ivecs" -k 10 \
      --nprobes "$np" --threads 2 --repeat 3 "$@" | tail -1)
  echo "$label nprobes $np $(echo "$line" | sed -n 's/.*: \([0-9]*\) QPS, recall@10 \([0-9.]*\).*/qps \1 recall \2/p')"
}
lat() { # lat LABEL TOOL INDEX: batch-1 p50 / p99 (us), medians of 3 runs, 1 thread
  local label=$1 tool=$2 idx=$3 out
  out=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$W/$tool" "$W/$idx" "$W/q1000.fvecs" 10 20 3)
  echo "$label batch1 nprobes 20 p50_us $(echo "$out" | awk '{print $4}' | sort -n | sed -n 2p)" \
      "p99_us $(echo "$out" | awk '{print $6}' | sort -n | sed -n 2p)"
}

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); load before: $(uptime | sed 's/.*load average: //')"
  $PA --version --verbose | sed -n '2,6p'
  for np in 5 10 20 40; do
    for k in scalar avx2 avx512; do
      PA_KERNEL=$k batch "4bit-fast-$k" "$PA" idx4 "$np"
    done
    batch "4bit-fast-refine4" "$PA" idx4 "$np" --refine-factor 4 --input "$W/base.fvecs"
    batch "4bit-plain" "$PA" idx4 "$np" --no-fast-scan
    [ -n "$BB" ] && batch "8bit-before" "$BB/partifact" idx8 "$np"
    batch "8bit-after" "$PA" idx8 "$np"
  done
  for k in scalar avx2 avx512; do
    PA_KERNEL=$k lat "4bit-fast-$k" lat_after idx4
  done
  PA_BENCH_PLAIN=1 lat "4bit-plain" lat_after idx4
  [ -n "$BB" ] && lat "8bit-before" lat_before idx8
  lat "8bit-after" lat_after idx8
  echo "load after: $(uptime | sed 's/.*load average: //')"
} | tee "$OUT"
