#!/usr/bin/env bash
# Commit into a table vs LanceDB createIndex, side by side in one run: on a LanceDB table (file
# format 2.1, written by LanceDB from the vectors), `partifact build --commit` with partifact's
# defaults, the same with LanceDB's k-means defaults (50 IVF and 50 PQ iterations, sample rate
# 256), and LanceDB's createIndex(Index.ivfPq), all with the same partitions and sub-vectors,
# each on a fresh copy of the table. Then recall@10 of each committed index through LanceDB's
# own search (nprobes NPROBES, limit 10, 1,000 queries) against LanceDB's exact search
# (bypassVectorIndex). RUNS runs of everything; medians.
# Usage: bench/table_bench.sh [BUILD_DIR]; env RUNS (3), WORK (bench/out/table),
#        DATASETS ("gen fashion"), NPROBES ("1,5,10,20,50"), SUMMARY_ONLY (1: no runs, only
#        the tables, from the results the runs of DATASETS left in WORK)
set -euo pipefail
BUILD=${1:-build}; PA="$(cd "$BUILD" && pwd)/partifact"
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/datasets.sh"
RUNS=${RUNS:-3}; WORK=${WORK:-bench/out/table}; DATASETS=${DATASETS:-"gen fashion"}
NPROBES=${NPROBES:-1,5,10,20,50}; K=10
LANCE_ITERS="--max-iters 50 --pq-iters 50 --sample-rate 256" # lance's IvfBuildParams/PQBuildParams
mkdir -p "$WORK"; WORK=$(cd "$WORK" && pwd)
ldb() { node "$HERE/table_bench.mjs" "$@" 2> >(grep -v ' WARN ' | grep -v 'Help: this could mean' >&2); }
jget() { python3 -c "import json,sys;print(json.load(open(sys.argv[1]))$2)" "$1"; }
if [ -z "${SUMMARY_ONLY:-}" ]; then
{
  echo "cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores"
  echo "partifact: $("$PA" --version --verbose 2>&1 | tr '\n' ' ')"
  echo "openblas core: $(/usr/bin/python3 -c 'import ctypes,ctypes.util
l=ctypes.CDLL(ctypes.util.find_library("openblas") or "libopenblas.so.0")
l.openblas_get_corename.restype=ctypes.c_char_p;print(l.openblas_get_corename().decode())' 2>&1)"
  echo "lancedb: $(jget "$HERE/../tests/interop/node_modules/@lancedb/lancedb/package.json" "['version']")"
  echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$WORK/machine.txt"
cat "$WORK/machine.txt" >&2
for ds in $DATASETS; do
  results="$WORK/results-$ds.jsonl"; : > "$results"
  bench_dataset "$ds"
  table="$WORK/$ds-table"; truth="$WORK/$ds-truth.json"
  [ -d "$table/t.lance" ] || ldb make "$base" "$table" >/dev/null
  [ -f "$truth" ] || ldb truth "$table" "$queries" $K "$truth" > "$WORK/$ds-truth-time.json"
  # LanceDB's exact search against partifact's groundtruth (ids = row ordinals): a sanity check
  [ -f "$WORK/$ds-gt.ivecs" ] || "$PA" groundtruth --input "$base" --queries "$queries" -k $K \
                                   --out "$WORK/$ds-gt.ivecs" >/dev/null
  same=$(python3 - "$truth" "$WORK/$ds-gt.ivecs" $K <<'PY'
import json, struct, sys
t, raw, k = json.load(open(sys.argv[1])), open(sys.argv[2], "rb").read(), int(sys.argv[3])
gt = [list(struct.unpack_from(f"<{k}i", raw, i * 4 * (k + 1) + 4)) for i in range(len(t))]
print(sum(set(a) == set(b) for a, b in zip(t, gt)), len(t))
PY
)
  for run in $(seq 1 "$RUNS"); do
    for sys in pa pa_lance_iters lancedb; do
      rm -rf "$WORK/w"; cp -r "$table" "$WORK/w"; sync
      load=$(cut -d' ' -f1 /proc/loadavg)
      case $sys in
        lancedb) secs=$(ldb index "$WORK/w" $P $M | python3 -c 'import json,sys;print(json.load(sys.stdin)["index_seconds"])') ;;
        *) extra=""; [ $sys = pa ] || extra=$LANCE_ITERS
           t0=$EPOCHREALTIME
           "$PA" build --input "$WORK/w/t.lance" --commit --partitions $P --sub-vectors $M --seed $run \
               $extra --json > "$WORK/pa.json"
           secs=$(python3 -c "print($EPOCHREALTIME - $t0)") ;;
      esac
      ldb recall "$WORK/w" "$queries" "$truth" $K "$NPROBES" > "$WORK/recall.json"
      python3 - "$ds" "$run" "$sys" "$secs" "$load" "$WORK/recall.json" $same >> "$results" <<'PY'
import json, sys
ds, run, system, secs, load, rec, same, nq = sys.argv[1:]
print(json.dumps({"data": ds, "run": int(run), "system": system, "seconds": float(secs),
                  "load": float(load), "search": json.load(open(rec))["search"],
                  "truth_same_as_groundtruth": int(same), "queries": int(nq)}))
PY
      echo "$ds run $run $sys: ${secs}s (load $load), recall $(jget "$WORK/recall.json" "['search']")" >&2
    done
  done
done
rm -rf "$WORK/w"
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$WORK/machine.txt"
for ds in $DATASETS; do cp "$WORK/machine.txt" "$WORK/machine-$ds.txt"; done
fi
/usr/bin/python3 - $(for ds in $DATASETS; do echo "$WORK/machine-$ds.txt" "$WORK/results-$ds.jsonl"; done) <<'PY'
import json, sys, statistics as st
files = sys.argv[1:]
rows = [json.loads(l) for f in files[1::2] for l in open(f) if l.strip()]
names = {"gen": "generated 1,000,000 x 128", "fashion": "Fashion-MNIST 60,000 x 784"}
systems = {"pa": "partifact build --commit (defaults: 10 IVF / 25 PQ iterations)",
           "pa_lance_iters": "partifact build --commit (LanceDB's iterations: 50 / 50)",
           "lancedb": "LanceDB createIndex (defaults: 50 / 50)"}
med = st.median
for f in dict.fromkeys(files[0::2]):
    print("".join("    " + l for l in open(f)))
print("| data (P=256, M=16) | index build | seconds (median) | runs | vs LanceDB |")
print("|---|---|---|---|---|")
for ds in dict.fromkeys(r["data"] for r in rows):
    g = {s: [r for r in rows if r["data"] == ds and r["system"] == s] for s in systems}
    ld = med([r["seconds"] for r in g["lancedb"]])
    for s, label in systems.items():
        v = [r["seconds"] for r in g[s]]
        print(f"| {names[ds]} | {label} | {med(v):.2f} s | {', '.join(f'{x:.2f}' for x in v)} | "
              f"{ld / med(v):.1f}x faster |" if s != "lancedb" else
              f"| {names[ds]} | {label} | {med(v):.2f} s | {', '.join(f'{x:.2f}' for x in v)} | 1 |")
print()
nps = [s["nprobes"] for s in rows[0]["search"]]
short = {"pa": "partifact defaults", "pa_lance_iters": "partifact, LanceDB's iterations", "lancedb": "LanceDB createIndex"}
print("| data | nprobes | " + " | ".join(f"recall@10 {short[s]}" for s in systems) + " |")
print("|---|---|" + "---|" * len(systems))
for ds in dict.fromkeys(r["data"] for r in rows):
    for i, npb in enumerate(nps):
        cells = [med([r["search"][i]["recall"] for r in rows if r["data"] == ds and r["system"] == s])
                 for s in systems]
        print(f"| {names[ds]} | {npb} | " + " | ".join(f"{c:.4f}" for c in cells) + " |")
for ds in dict.fromkeys(r["data"] for r in rows):
    r0 = next(r for r in rows if r["data"] == ds)
    print(f"\n{names[ds]}: LanceDB's exact search (the truth) has the same top-10 id set as "
          f"`partifact groundtruth` for {r0['truth_same_as_groundtruth']} of {r0['queries']} queries")
print(f"\nmedians of {len(rows) // (len(systems) * len(set(r['data'] for r in rows)))} runs; "
      f"load average (1 min) before each build: {min(r['load'] for r in rows):.1f} to "
      f"{max(r['load'] for r in rows):.1f}")
PY
