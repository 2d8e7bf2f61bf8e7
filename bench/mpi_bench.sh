#!/usr/bin/env bash
# The MPI driver (issue 16): build --mpi --commit on one machine with 1 and 2 ranks, beside the
# single-process build + commit, on fresh copies of one LanceDB table (FRAGMENTS fragments),
# RUNS runs each, medians of every step (train, encode, finalize, commit); the per-rank rates
# (encode rows/s per core, finalize MB/s, artifact bytes per row, training seconds per k-means
# iteration against the sample size on one core); and the plan for 1,000,000,000 x 128 and
# x 768 built from those rates (docs/scale-out.md explains the formulas).
# Usage: bench/mpi_bench.sh [BUILD_DIR]; env ROWS (300000) DIM (128) FRAGMENTS (8) M (16)
#        RUNS (3) WORK (bench/out/mpi) SUMMARY_ONLY (1: only the tables, from WORK's results)
set -euo pipefail
BUILD=${1:-build}; PA="$(cd "$BUILD" && pwd)/partifact"
HERE=$(cd "$(dirname "$0")" && pwd); INTEROP="$HERE/../tests/interop"
ROWS=${ROWS:-300000}; DIM=${DIM:-128}; FRAGMENTS=${FRAGMENTS:-8}; M=${M:-16}; RUNS=${RUNS:-3}
WORK=${WORK:-bench/out/mpi}; mkdir -p "$WORK"; WORK=$(cd "$WORK" && pwd)
MPIRUN=(mpirun --oversubscribe --bind-to none --mca btl_vader_single_copy_mechanism none)
[ "$(id -u)" -eq 0 ] && MPIRUN+=(--allow-run-as-root)
results="$WORK/results.jsonl"; rates="$WORK/rates.jsonl"
if [ -z "${SUMMARY_ONLY:-}" ]; then
  {
    echo "cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores"
    echo "partifact: $("$PA" --version --verbose 2>&1 | tr '\n' ' ')"
    echo "mpi: $(mpirun --version 2>&1 | head -1)"
    echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  } > "$WORK/machine.txt"
  cat "$WORK/machine.txt" >&2
  base="$WORK/base-$ROWS-$DIM.fvecs"
  [ -f "$base" ] || "$PA" gen-vectors --out "$base" --rows "$ROWS" --dim "$DIM" --clusters 1000 --seed 1 >/dev/null
  table="$WORK/table-$ROWS-$DIM-$FRAGMENTS"
  [ -d "$table/t.lance" ] || { mkdir -p "$table"; node "$INTEROP/make_table.mjs" "$INTEROP" "$table" t "$base" "$FRAGMENTS" \
                                 2> >(grep -v ' WARN ' >&2) >/dev/null; }
  : > "$results"; : > "$rates"
  for run in $(seq 1 "$RUNS"); do
    for cfg in single mpi1 mpi2; do
      rm -rf "$WORK/w"; mkdir -p "$WORK/w"; cp -r "$table/t.lance" "$WORK/w/"; sync
      load=$(cut -d' ' -f1 /proc/loadavg)
      case $cfg in
        single)
          "$PA" build --input "$WORK/w/t.lance" --out "$WORK/w/idx" --sub-vectors "$M" --json > "$WORK/b.json"
          t0=$(date +%s.%N)
          "$PA" commit --index "$WORK/w/idx" --table "$WORK/w/t.lance" --json > "$WORK/c.json"
          t1=$(date +%s.%N)
          python3 - "$WORK/b.json" "$t0" "$t1" "$run" "$load" >> "$results" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
print(json.dumps({"cfg": "single", "run": int(sys.argv[4]), "load": float(sys.argv[5]),
                  "rows": b["rows"], "partitions": b["partitions"], "train": b["train_seconds"],
                  "encode": b["encode_seconds"], "finalize": b["finalize_seconds"],
                  "commit": float(sys.argv[3]) - float(sys.argv[2]),
                  "artifact_bytes": b["artifact_bytes"]}))
PY
          ;;
        mpi*)
          n=${cfg#mpi}
          "${MPIRUN[@]}" -n "$n" "$PA" build --mpi --input "$WORK/w/t.lance" --commit --sub-vectors "$M" \
              --json > "$WORK/m.json" 2> "$WORK/m.err"
          python3 - "$WORK/m.json" "$cfg" "$run" "$load" >> "$results" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print(json.dumps({"cfg": sys.argv[2], "run": int(sys.argv[3]), "load": float(sys.argv[4]),
                  "rows": m["rows"], "partitions": m["partitions"], "train": m["train_seconds"],
                  "encode": m["encode_seconds"], "finalize": m["finalize_seconds"],
                  "commit": m["commit_seconds"], "ivf_iters": m["ivf_iters"],
                  "per_rank": m["per_rank"]}))
PY
          ;;
      esac
      echo "run $run $cfg (load $load): $(tail -1 "$results" | cut -c1-160)" >&2
    done
    # training on one core: seconds per coarse k-means iteration against the sample size
    P=$(python3 -c "import json;print(json.loads(open('$results').readline())['partitions'])")
    for rate in 64 128 256; do
      OMP_NUM_THREADS=1 "$PA" train --input "$base" --partitions "$P" --sub-vectors "$M" --sample-rate $rate \
          --out "$WORK/w/m-$rate.lance" --force --json > "$WORK/t.json"
      python3 - "$WORK/t.json" "$run" "$P" "$DIM" >> "$rates" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
print(json.dumps({"run": int(sys.argv[2]), "P": int(sys.argv[3]), "dim": int(sys.argv[4]),
                  "sample_rows": t["sample_rows"], "ivf_seconds": t["ivf_seconds"],
                  "ivf_iters": t["ivf_iters"], "pq_seconds": t["pq_seconds"]}))
PY
    done
  done
  rm -rf "$WORK/w"
  echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$WORK/machine.txt"
fi
cat "$WORK/machine.txt"
python3 - "$results" "$rates" "$M" "$DIM" <<'PY'
import json, math, statistics as st, sys
R = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
T = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
M_b, dim_b = int(sys.argv[3]), int(sys.argv[4])
med = lambda xs: st.median(xs)
cfgs = [("single", "partifact build + commit, 1 process (2 threads)"),
        ("mpi1", "build --mpi --commit, 1 rank (2 threads)"),
        ("mpi2", "build --mpi --commit, 2 ranks (1 thread each)")]
print(f"rows {R[0]['rows']}, dim {dim_b}, partitions {R[0]['partitions']}, M {M_b}; "
      f"load (1-min) during the runs: {min(r['load'] for r in R):.2f} to {max(r['load'] for r in R):.2f}")
print()
print(f"| configuration (median of {len([r for r in R if r['cfg'] == 'single'])} runs) | train s | encode s | finalize s | commit s | total s |")
print("|---|---|---|---|---|---|")
tot = {}
for c, name in cfgs:
    rs = [r for r in R if r["cfg"] == c]
    if not rs:
        continue
    v = [med([r[k] for r in rs]) for k in ("train", "encode", "finalize", "commit")]
    tot[c] = med([r["train"] + r["encode"] + r["finalize"] + r["commit"] for r in rs])
    print(f"| {name} | {v[0]:.2f} | {v[1]:.2f} | {v[2]:.2f} | {v[3]:.2f} | {tot[c]:.2f} |")
if "mpi1" in tot and "mpi2" in tot:
    print(f"\n2 ranks / 1 rank, total: {tot['mpi2'] / tot['mpi1']:.2f}")
# per-rank rates from the 2-rank runs (one thread each: per core)
ranks = [k for r in R if r["cfg"] == "mpi2" for k in r["per_rank"]]
enc = med([k["rows"] / k["encode_seconds"] for k in ranks if k["encode_seconds"] > 0])
fin = med([k["artifact_bytes"] / 1e6 / k["finalize_seconds"] for k in ranks if k["finalize_seconds"] > 0])
bpr = med([k["artifact_bytes"] / k["rows"] for k in ranks if k["rows"]])
sbr = med([k["segment_bytes"] / k["rows"] for k in ranks if k["rows"]])
P_b = R[0]["partitions"]
iters = [r["ivf_iters"] for r in R if r["cfg"] == "mpi2"]
sums = med([k["train_sum_bytes"] / k["train_sum_calls"] for k in ranks])
print()
print("| per-rank rate (2 ranks, one core each; medians over runs and ranks) | value |")
print("|---|---|")
print(f"| encode | {enc:,.0f} rows/s per core |")
print(f"| finalize (its artifact into its segment) | {fin:.1f} MB/s of artifact per rank |")
print(f"| artifact bytes per row | {bpr:.1f} |")
print(f"| segment (index) bytes per row | {sbr:.1f} |")
print(f"| coarse k-means exchange per iteration, per rank | {(P_b * dim_b + 2 * P_b + 1) * 8 / 1e6:.2f} MB (P x dim + 2P + 1 doubles) |")
print(f"| training sums, mean per call (coarse and PQ) | {sums / 1e3:.1f} kB |")
print()
print("| training on one core: sample rows | s per coarse iteration | ns per row x centroid x dim | PQ s (all sub-spaces) |")
print("|---|---|---|---|")
unit = []
for n in sorted({t["sample_rows"] for t in T}):
    ts = [t for t in T if t["sample_rows"] == n]
    it = med([t["ivf_seconds"] / t["ivf_iters"] for t in ts])
    u = it / (n * ts[0]["P"] * ts[0]["dim"]) * 1e9
    unit.append(u)
    print(f"| {n:,} | {it:.3f} | {u:.4f} | {med([t['pq_seconds'] for t in ts]):.2f} |")
u = med(unit) * 1e-9          # seconds per row x centroid x dim, one core
pq_b = med([t["pq_seconds"] for t in T])
# the plan: 1e9 rows, partifact's defaults (sqrt(n) partitions, dim/8 or dim/16 sub-vectors,
# 256 sample rows per partition, 10 coarse iterations at most)
cores = 2
print()
print("Plan for 1,000,000,000 rows, from the rates above (machines like this one: "
      f"{cores} cores; formulas in docs/scale-out.md):")
print()
print("| | x 128 | x 768 |")
print("|---|---|---|")
rows = {}
for dim in (128, 768):
    N = 1_000_000_000
    P = round(math.sqrt(N))
    M = dim // 8 if dim <= 256 else dim // 16
    sample = 256 * P
    it = sample * P * dim * u                              # core-seconds per coarse iteration
    train = 10 * it + pq_b * dim / dim_b                   # + the PQ codebooks (65,536 rows)
    enc_rate = enc * ((P_b + 256) * dim_b) / ((P + 256) * dim)  # rows/s per core, scaled
    encode = N / enc_rate
    art = N * (bpr - M_b + M)
    seg = N * (sbr - M_b + M)
    fin_s = art / 1e6 / fin                                 # seconds on one rank
    net = (P * dim + 2 * P + 1) * 8
    rows[dim] = dict(P=P, M=M, sample=sample, sample_gb=sample * dim * 4 / 1e9, it=it, train=train,
                     enc_rate=enc_rate, encode=encode, art=art, seg=seg, fin=fin_s, net=net)
g = lambda k, f: " | ".join(f(rows[d][k]) for d in (128, 768))
print(f"| partitions, sub-vectors | {rows[128]['P']:,}, {rows[128]['M']} | {rows[768]['P']:,}, {rows[768]['M']} |")
print(f"| training sample: rows, GB | {rows[128]['sample']:,}, {rows[128]['sample_gb']:.1f} GB | {rows[768]['sample']:,}, {rows[768]['sample_gb']:.1f} GB |")
print(f"| coarse iteration, one core | {g('it', lambda v: f'{v / 3600:.1f} core-h')} |")
print(f"| training (10 iterations + PQ), one core | {g('train', lambda v: f'{v / 3600:.1f} core-h')} |")
print(f"| exchange per coarse iteration, per rank | {g('net', lambda v: f'{v / 1e6:.0f} MB')} |")
print(f"| encode rate (scaled by (P + 256) x dim) | {g('enc_rate', lambda v: f'{v:,.0f} rows/s per core')} |")
print(f"| encode, one core | {g('encode', lambda v: f'{v / 3600:.0f} core-h')} |")
print(f"| artifact; index segments | {rows[128]['art'] / 1e9:.0f} GB; {rows[128]['seg'] / 1e9:.0f} GB | {rows[768]['art'] / 1e9:.0f} GB; {rows[768]['seg'] / 1e9:.0f} GB |")
print(f"| finalize, one rank | {g('fin', lambda v: f'{v / 60:.0f} min')} |")
for d in (128, 768):
    r = rows[d]
    r["work"] = r["train"] + r["encode"] + r["fin"]  # core-seconds: one rank per core
print(f"| all the work, one core | {g('work', lambda v: f'{v / 3600:.0f} core-h')} |")
for target in (1, 8, 24):
    need = {}
    for d in (128, 768):
        r = rows[d]
        # enough cores for the work in the target time, and enough memory for the sample
        # (each rank holds its share; 20 GB of a 24 GB machine's memory for it)
        need[d] = max(math.ceil(r["work"] / (cores * target * 3600)), math.ceil(r["sample_gb"] / 20))
    print(f"| machines for a {target} h build | {need[128]:,} | {need[768]:,} |")
PY
