#!/usr/bin/env bash
# Artifact writer benchmark: stream ROWS synthetic rows (M-byte codes) into an artifact with a
# memory budget, against dd writing the same number of bytes to the same disk, in one run;
# then read every partition back and compare bytes read with the artifact's size.
# Usage: bench/artifact_bench.sh [BUILD_DIR] ; env ROWS (100M) PARTS (10000) M (16)
#        MEMORY (256MiB) RUNS (3) WORK (bench/out/artifact)
set -euo pipefail
BUILD=${1:-build}
PA="$BUILD/partifact"
"$PA" --version --verbose # the CPU, BLAS kernels and sgemm rate of every figure below
ROWS=${ROWS:-100M}; PARTS=${PARTS:-10000}; M=${M:-16}; MEMORY=${MEMORY:-256MiB}
RUNS=${RUNS:-3}; WORK=${WORK:-bench/out/artifact}
mkdir -p "$WORK"
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
. "$(cd "$(dirname "$0")" && pwd)/bench_util.sh" # peak
results="$WORK/results.tsv"; : > "$results"
for run in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/a" "$WORK/dd.bin"; sync
  /usr/bin/time -v -o "$WORK/time.txt" "$PA" artifact-gen --out "$WORK/a" --rows "$ROWS" \
      --partitions "$PARTS" --sub-vectors "$M" --memory "$MEMORY" --json > "$WORK/gen.json"
  rss_kb=$(peak "$WORK/time.txt")
  wall=$(python3 -c "import json;print(json.load(open('$WORK/gen.json'))['seconds'])")
  bytes=$(python3 -c "import json;print(json.load(open('$WORK/gen.json'))['bytes'])")
  ranges=$(python3 -c "import json;print(json.load(open('$WORK/gen.json'))['ranges'])")
  sync
  # dd: the same bytes, to the same disk, flushed to disk at the end like the artifact's fsyncs
  t0=$(date +%s.%N)
  dd if=/dev/zero of="$WORK/dd.bin" bs=4M count=$(( (bytes + 4194303) / 4194304 )) conv=fdatasync status=none
  t1=$(date +%s.%N)
  dd_s=$(python3 -c "print($t1 - $t0)")
  rm -f "$WORK/dd.bin"
  "$PA" inspect --read --json "$WORK/a" > "$WORK/read.json"
  read_bytes=$(python3 -c "import json;print(json.load(open('$WORK/read.json'))['read']['bytes_read'])")
  read_s=$(python3 -c "import json;print(json.load(open('$WORK/read.json'))['read']['seconds'])")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$wall" "$dd_s" "$bytes" "$rss_kb" "$read_bytes" "$read_s" "$ranges" >> "$results"
  echo "run $run: artifact ${wall}s, dd ${dd_s}s, ${bytes} bytes, peak RSS ${rss_kb} KiB, read back ${read_bytes} bytes in ${read_s}s" >&2
done
rm -rf "$WORK/a"
python3 - "$results" "$ROWS" "$PARTS" "$M" "$MEMORY" <<'PY'
import sys, statistics as st
rows = [l.split('\t') for l in open(sys.argv[1]).read().split('\n') if l]
col = lambda i: [float(r[i]) for r in rows]
med = lambda i: st.median(col(i))
wall, dd, nbytes, rss, rb, rs, ranges = med(1), med(2), med(3), med(4), med(5), med(6), med(7)
print(f"| rows | partitions | M | budget | artifact bytes | ranges |")
print(f"|---|---|---|---|---|---|")
print(f"| {sys.argv[2]} | {sys.argv[3]} | {sys.argv[4]} | {sys.argv[5]} | {nbytes:.0f} | {ranges:.0f} |")
print()
print(f"| measure (median of {len(rows)}) | value |")
print(f"|---|---|")
print(f"| artifact write (generate + route + sort + write + fsync) | {wall:.2f} s, {nbytes/1e6/wall:.0f} MB/s |")
print(f"| dd, same bytes, same disk, fdatasync | {dd:.2f} s, {nbytes/1e6/dd:.0f} MB/s |")
print(f"| artifact throughput / dd throughput | {dd/wall:.2f} |")
print(f"| peak RSS of the writer | {rss/1024:.0f} MiB |")
print(f"| read back every partition: bytes read / artifact bytes | {rb/nbytes:.4f} ({rb:.0f} / {nbytes:.0f}) |")
print(f"| read back time | {rs:.2f} s, {rb/1e6/rs:.0f} MB/s |")
PY
