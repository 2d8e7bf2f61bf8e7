#!/usr/bin/env bash
# Scale (issue 13): `partifact build` against FAISS IndexIVFPQ train + add (IVF{P},PQ{M}, 8-bit)
# on ROWS x 128 clustered vectors (gen-vectors, seed 1; default 10,000,000: 5.2 GB), the same
# training sample (256 rows per partition: 1,048,576 rows at P=4096), iterations (coarse 10, PQ
# 25) and threads (2), through bench/faiss_ivfpq.py (PQ_MSE=0: no reconstruction error here).
# Paired runs partifact, FAISS, partifact, FAISS ..., RUNS of each: each phase's seconds and the
# peak RSS (/usr/bin/time -v). CONTENTION lists the modes: 0 the machine as it is, 1 one busy loop
# per core (bench_util.sh's busy_start, nice 0) started before each side's run and killed after.
# The growth tables (GROWTH=1): each phase at ROWS/10 rows (the base's first rows) with P and
# P/16 partitions, so that 1M -> 10M rows at P=4096 and P=256 -> 4096 at 1M rows. Search over
# the ROWS-row index (the first partifact build's, kept): QUERIES queries (gen-vectors rows after
# the base), NPROBES, 2 threads, recall@10 against exact ground truth (computed once, cached),
# with the whole index in memory, with --memory a quarter of the index's bytes, and with the
# least budget it accepts (index-info's memory_min_bytes): that run's peak RSS less its budget is
# the fixed cost outside the budget (binary, libraries, queries, ground truth, per-thread work).
# Resumable: the data, queries, ground truth and search index are cached in WORK, and each run's
# result line in WORK/results.jsonl is kept (a rerun does only what is missing; FRESH=1 starts
# the results again). The tables: bench/scale_report.py.
# OpenMP's wait: each side runs as it is shipped, partifact with the CLI's GOMP_SPINCOUNT=10000,
# FAISS (Python) with libgomp's default; GOMP_SPINCOUNT (or OMP_WAIT_POLICY) set for the script
# gives both sides that wait (the CLI leaves a variable the user set alone).
# Full run (a quiet 2-core machine, figures of today's kernels): RUNS=3 CONTENTION="0 1", about
# 85 min by the printed estimate; CONTENTION=0 first (about 40 min), then CONTENTION=1 GROWTH=0
# SEARCH=0 in the same WORK adds the contention rows to the same report.
# Usage: bench/scale_bench.sh [BUILD_DIR]; env ROWS (10000000), P (4096), M (16), RUNS (3),
#        CONTENTION ("0"; "0 1" both), GROWTH (1), SEARCH (1), QUERIES (1000), NPROBES (20),
#        WORK (bench/out/scale), FAISS (1; 0: partifact only), FRESH, FAISS_PYTHONPATH and
#        FAISS_BLAS (bench/faiss_peer.sh). SMALL=1: ROWS=200000 P=512 (RUNS=1 CONTENTION="0 1":
#        6 min on a loaded 2-core machine, load 15-18).
set -euo pipefail
BUILD=${1:-build}; PA="$(cd "$BUILD" && pwd)/partifact"
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/faiss_peer.sh"; . "$HERE/bench_util.sh"
if [ "${SMALL:-0}" = 1 ]; then ROWS=${ROWS:-200000}; P=${P:-512}; fi
ROWS=${ROWS:-10000000}; P=${P:-4096}; M=${M:-16}; RUNS=${RUNS:-3}; CONTENTION=${CONTENTION:-0}
GROWTH=${GROWTH:-1}; SEARCH=${SEARCH:-1}; QUERIES=${QUERIES:-1000}; NPROBES=${NPROBES:-20}
FAISS=${FAISS:-1}; WORK=${WORK:-bench/out/scale}; DIM=128; CORES=$(nproc)
GROWTH_ROWS=$((ROWS / 10)); GROWTH_P=$((P / 16))
"$PA" --version --verbose # the CPU, BLAS kernels and sgemm rate of every figure below
FAISS_HEADER="(FAISS not run: FAISS=0)"
[ "$FAISS" = 1 ] && faiss_peer_header # stops here where the peer is a generic build
mkdir -p "$WORK"; WORK=$(cd "$WORK" && pwd)
base="$WORK/gen-$ROWS-$DIM.fvecs"; queries="$WORK/gen-$ROWS-queries-$QUERIES.fvecs"
gt="$WORK/gen-$ROWS-gt-$QUERIES.ivecs"; results="$WORK/results.jsonl"
[ "${FRESH:-0}" = 1 ] && rm -f "$results"
touch "$results"
configs="$ROWS:$P"; [ "$GROWTH" = 1 ] && configs="$configs $GROWTH_ROWS:$P $GROWTH_ROWS:$GROWTH_P"

# What the run will do, and about how long it takes: each build's FLOPs (bench/scale_report.py's
# formulas) at fractions of the sgemm rate measured now (partifact 40%, FAISS 20%, both halved
# under contention), the ground truth at 50%, the data at 100 MB/s: an estimate, not a promise.
gflops=$("$PA" --version --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sgemm"]["gflops"])')
bytes=$((ROWS * (4 + DIM * 4)))
need=$((bytes + bytes / 10 + bytes / 5 + (1 << 30)))
avail=$(($(df -Pk "$WORK" | awk 'NR == 2 {print $4}') * 1024))
if [ ! -f "$base" ] && [ "$avail" -lt "$need" ]; then
  echo "scale_bench: $WORK has $((avail >> 20)) MiB free, the data and indexes need about $((need >> 20)) MiB" >&2
  exit 1
fi
python3 - "$gflops" "$configs" "$RUNS" "$CONTENTION" "$FAISS" "$ROWS" "$QUERIES" "$DIM" "$M" \
    "$([ -f "$base" ] && echo 1 || echo 0)" "$([ -f "$gt" ] && echo 1 || echo 0)" <<'PY'
import sys
gf, configs, runs, cont, faiss, rows, nq, d, m, have_base, have_gt = sys.argv[1:]
gf, runs, rows, nq, d = float(gf), int(runs), int(rows), int(nq), int(d)
def build_flops(n, p):
    s = min(n, 256 * p)
    return 2 * s * p * d * 10 + 2 * min(s, 65536) * 256 * d * 25 + 2 * n * p * d + 2 * n * 256 * d
t = 0.0
for c in cont.split():
    for cfg in configs.split():
        if c == "1" and cfg != configs.split()[0]:
            continue
        n, p = map(int, cfg.split(":"))
        f = build_flops(n, p) / (gf * 1e9) * (2 if c == "1" else 1)
        t += runs * (f / 0.4 + (f / 0.2 if faiss == "1" else 0))
t += 0 if have_gt == "1" else 2 * nq * rows * d / (gf * 1e9) / 0.5
t += 0 if have_base == "1" else rows * (4 + 4 * d) / 1e8
print(f"scale_bench: {rows:,} x {d}, configs (rows:partitions) {configs}, {runs} runs, "
      f"contention modes {cont}; expected duration about {t / 60:.0f} min at the sgemm rate "
      f"measured now ({gf:.0f} GFLOP/s; an estimate)", flush=True)
PY
start=$SECONDS
echo "load before: $(uptime)"

if [ ! -f "$base" ]; then
  "$PA" gen-vectors --out "$base.tmp" --rows "$ROWS" --dim $DIM --clusters 1000 --seed 1 >/dev/null
  mv "$base.tmp" "$base"
fi
if [ ! -f "$queries" ]; then
  "$PA" gen-vectors --out "$queries" --rows "$QUERIES" --dim $DIM --clusters 1000 --seed 1 \
      --first-row "$ROWS" >/dev/null
fi
# the growth configurations' base: the first GROWTH_ROWS rows (gen-vectors rows do not depend
# on how many are written)
input_for() { # ROWS -> the .fvecs of that many rows
  if [ "$1" = "$ROWS" ]; then echo "$base"; return; fi
  local f="$WORK/gen-$1-$DIM.fvecs"
  [ -f "$f" ] || { head -c $(($1 * (4 + DIM * 4))) "$base" > "$f.tmp" && mv "$f.tmp" "$f"; }
  echo "$f"
}
done_already() { grep -qF "\"key\": \"$1\"" "$results"; }
trap busy_stop EXIT
record() { # KEY SIDE ROWS P CONTENTION RUN JSON RSS_FILE LOAD
  python3 - "${@:1:7}" "$(peak "$8")" "$9" >> "$results" <<'PY'
import json, sys
key, side, rows, p, cont, run, res, kib, load = sys.argv[1:]
kib = int(kib)
print(json.dumps({"key": key, "kind": "build", "side": side, "rows": int(rows), "partitions": int(p),
                  "contention": int(cont), "run": int(run), "rss_kib": kib,
                  "load": float(load), "result": json.load(open(res))}))
x = json.load(open(res))
print(f"{key}: {x.get('seconds', x.get('total_seconds')):.2f} s, peak RSS {kib // 1024} MiB",
      file=sys.stderr)
PY
}
for run in $(seq 1 "$RUNS"); do
  for cont in $CONTENTION; do
    for cfg in $configs; do
      rows=${cfg%:*}; p=${cfg#*:}
      [ "$cont" = 1 ] && [ "$cfg" != "$ROWS:$P" ] && continue # growth: the machine as it is
      input=$(input_for "$rows")
      for side in partifact faiss; do
        [ "$side" = faiss ] && [ "$FAISS" != 1 ] && continue
        key="$side $rows $p $cont $run"
        done_already "$key" && continue
        rm -rf "$WORK/idx" "$WORK/work"
        load=$(cut -d' ' -f1 /proc/loadavg)
        [ "$cont" = 1 ] && busy_start "$CORES"
        if [ "$side" = partifact ]; then
          /usr/bin/time -v -o "$WORK/t.txt" "$PA" build --input "$input" --out "$WORK/idx" \
              --partitions "$p" --sub-vectors "$M" --seed "$run" --work-dir "$WORK/work" --json \
              > "$WORK/r.json"
        else
          PQ_MSE=0 /usr/bin/time -v -o "$WORK/t.txt" $FAISS_PY "$HERE/faiss_ivfpq.py" "$input" \
              "$p" "$M" "$run" > "$WORK/r.json"
        fi
        busy_stop
        record "$key" "$side" "$rows" "$p" "$cont" "$run" "$WORK/r.json" "$WORK/t.txt" "$load"
        if [ "$side" = partifact ] && [ "$cfg" = "$ROWS:$P" ] && [ ! -d "$WORK/search-index" ]; then
          mv "$WORK/idx" "$WORK/search-index" # the index searched below (seed 1's)
        fi
        rm -rf "$WORK/idx" "$WORK/work"
      done
    done
  done
done

if [ "$SEARCH" = 1 ] && [ -d "$WORK/search-index" ]; then
  if [ ! -f "$gt" ]; then
    "$PA" groundtruth --input "$base" --queries "$queries" --out "$gt.tmp.ivecs" -k 10 >/dev/null
    mv "$gt.tmp.ivecs" "$gt"
  fi
  "$PA" index-info "$WORK/search-index" --json > "$WORK/info.json"
  read -r index_bytes least < <(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["bytes"], j["memory_min_bytes"])' "$WORK/info.json")
  for budget in all quarter least; do
    key="search $ROWS $P $budget"
    done_already "$key" && continue
    case $budget in
      all) mem=() ; bytes_budget=0 ;;
      quarter) # (at least the least budget: a small index's fixed part can be more than a quarter)
        bytes_budget=$((index_bytes / 4 > least ? index_bytes / 4 : least)); mem=(--memory "$bytes_budget") ;;
      least) bytes_budget=$least; mem=(--memory "$bytes_budget") ;;
    esac
    /usr/bin/time -v -o "$WORK/t.txt" "$PA" search --index "$WORK/search-index" --queries "$queries" \
        --groundtruth "$gt" -k 10 --nprobes "$NPROBES" --threads 2 --repeat 3 "${mem[@]}" --json \
        > "$WORK/r.json"
    python3 - "$key" "$budget" "$bytes_budget" "$index_bytes" "$WORK/r.json" \
        "$(peak "$WORK/t.txt")" >> "$results" <<'PY'
import json, sys
key, budget, b, ib, res, kib = sys.argv[1:]
kib = int(kib)
print(json.dumps({"key": key, "kind": "search", "budget": budget, "budget_bytes": int(b),
                  "index_bytes": int(ib), "rss_kib": kib, "result": json.load(open(res))}))
PY
  done
fi
echo "load after: $(uptime)"
echo "scale_bench: took $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s"
/usr/bin/python3 "$HERE/scale_report.py" "$results" "$FAISS_HEADER" "$ROWS" "$P"
