#!/usr/bin/env bash
# Finalize from the artifact vs the generic re-group path, in one run, with the same memory
# budget: ROWS generated vectors are trained on and encoded once into an artifact; the same rows
# are exported into one Lance rows file in random order (what a producer without an artifact
# hands over); then each path writes the index RUNS times (the page cache dropped before each
# when possible). Both indexes are compared byte for byte. Reports time, bytes read and
# written (spill included) and peak RSS, medians.
# Usage: bench/finalize_bench.sh [BUILD_DIR]; env ROWS (10M) DIM (32) PARTS (1024) M (16)
#        MEMORY (256MiB) RUNS (3) WORK (bench/out/finalize)
set -euo pipefail
BUILD=${1:-build}; PA="$(cd "$BUILD" && pwd)/partifact"
"$PA" --version --verbose # the CPU, BLAS kernels and sgemm rate of every figure below
ROWS=${ROWS:-10M}; DIM=${DIM:-32}; PARTS=${PARTS:-1024}; M=${M:-16}; MEMORY=${MEMORY:-256MiB}
RUNS=${RUNS:-3}; WORK=${WORK:-bench/out/finalize}
mkdir -p "$WORK"; WORK=$(cd "$WORK" && pwd)
. "$(cd "$(dirname "$0")" && pwd)/bench_util.sh" # peak
drop() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
base="$WORK/base.fvecs"
[ -f "$base" ] || "$PA" gen-vectors --out "$base" --rows "$ROWS" --dim "$DIM" --clusters 1000 --seed 7 >/dev/null
if [ ! -f "$WORK/artifact/manifest.json" ]; then
  rm -rf "$WORK/artifact" "$WORK/rows.lance"
  "$PA" train --input "$base" --partitions "$PARTS" --sub-vectors "$M" --seed 1 --out "$WORK/model.lance" --force >/dev/null
  "$PA" encode --input "$base" --model "$WORK/model.lance" --out "$WORK/artifact" --memory "$MEMORY" >/dev/null
  "$PA" export-rows --artifact "$WORK/artifact" --out "$WORK/rows.lance" --shuffle 1 >/dev/null
fi
results="$WORK/results.tsv"; : > "$results"
for run in $(seq 1 "$RUNS"); do
  for path in artifact rows; do
    rm -rf "$WORK/idx-$path"; drop
    if [ $path = artifact ]; then
      /usr/bin/time -v -o "$WORK/t.txt" "$PA" finalize --artifact "$WORK/artifact" --model "$WORK/model.lance" \
          --out "$WORK/idx-$path" --memory "$MEMORY" --json > "$WORK/f.json"
    else
      /usr/bin/time -v -o "$WORK/t.txt" "$PA" finalize --rows "$WORK/rows.lance" --model "$WORK/model.lance" \
          --out "$WORK/idx-$path" --memory "$MEMORY" --tmp "$WORK" --json > "$WORK/f.json"
    fi
    python3 - "$path" "$run" "$WORK/f.json" "$(peak "$WORK/t.txt")" >> "$results" <<'PY'
import json, sys
p, run, f, rss = sys.argv[1:]
j = json.load(open(f))
print("\t".join(str(v) for v in (p, run, j["seconds"], j["bytes_read"], j["bytes_written"],
                                 j.get("spill_bytes", 0), rss, j["rows"])))
PY
    tail -1 "$results" >&2
  done
  cmp "$WORK/idx-artifact/auxiliary.idx" "$WORK/idx-rows/auxiliary.idx"
  cmp "$WORK/idx-artifact/index.idx" "$WORK/idx-rows/index.idx"
done
art_bytes=$(du -sb "$WORK/artifact/partitions" | cut -f1); rows_bytes=$(stat -c %s "$WORK/rows.lance")
python3 - "$results" "$ROWS" "$DIM" "$PARTS" "$M" "$MEMORY" "$art_bytes" "$rows_bytes" <<'PY'
import sys, statistics as st
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines() if l]
n, dim, parts, m, mem, ab, rb = sys.argv[2:]
med = lambda p, i: st.median(float(r[i]) for r in rows if r[0] == p)
print(f"{n} rows (dim {dim}, {parts} partitions, M={m}), --memory {mem}; artifact buckets "
      f"{int(ab)/1e6:.0f} MB, rows file {int(rb)/1e6:.0f} MB; the two indexes are byte-identical\n")
print("| path | time | bytes read | bytes written (index + spill) | spill | peak RSS |")
print("|---|---|---|---|---|---|")
for p, name in (("artifact", "finalize --artifact (ranges from the manifest)"),
                ("rows", "finalize --rows (generic re-group, external sort)")):
    print(f"| {name} | {med(p,2):.2f} s | {med(p,3)/1e6:.0f} MB | {med(p,4)/1e6:.0f} MB | "
          f"{med(p,5)/1e6:.0f} MB | {med(p,6)/1024:.0f} MiB |")
print(f"\ngeneric / artifact time: {med('rows',2)/med('artifact',2):.1f}x (median of "
      f"{len(rows)//2} runs each)")
PY
