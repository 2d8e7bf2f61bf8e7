#!/usr/bin/env bash
# The Python package's benchmarks (BENCHMARKS.md, "Python package"):
#   bench/python_bench.sh overhead [BUILD]   search at batch 1 (p50/p99) and batch 1000,
#                                            the package vs the library called from C
#   bench/python_bench.sh rss [BUILD]        10M rows through ArtifactWriter, 64 MiB budget:
#                                            peak RSS (GNU time) vs budget + batch + interpreter
# Results: bench/out/python/{overhead,rss}.txt
set -eu
MODE=$1; B=$(cd "${2:-build}" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/bench/out/python; mkdir -p "$OUT"
PA=$B/partifact; PY=/usr/bin/python3
export PARTIFACT_LIBRARY=$B/libpartifact.so.0 PYTHONPATH=$ROOT/python
to_npy() { $PY -c "import numpy as np,sys; a=np.fromfile(sys.argv[1],dtype=np.int32); d=a[0]; np.save(sys.argv[2], a.reshape(-1,d+1)[:,1:].view(np.float32).copy())" "$1" "$2"; }
case $MODE in
overhead)
  W=$OUT/overhead-work; rm -rf "$W"; mkdir -p "$W"
  $PA gen-vectors --out "$W/base.fvecs" --rows 100000 --dim 128 --clusters 200 --seed 3 >/dev/null
  $PA gen-vectors --out "$W/q.fvecs" --rows 1000 --dim 128 --clusters 200 --seed 3 --first-row 100000 >/dev/null
  to_npy "$W/q.fvecs" "$W/q.npy"
  $PA build --input "$W/base.fvecs" --out "$W/idx" --partitions 256 --sub-vectors 16 >/dev/null
  gcc -O2 -std=c17 -Wall -Wextra -Werror -I"$ROOT/include" "$ROOT/bench/python_search_c.c" -L"$B" -lpartifact \
      -Wl,-rpath,"$B" -o "$W/python_search_c"
  # one thread for both sides: batch 1 is then free of OpenMP's hand-offs, whose waits on a
  # shared machine would swamp the overhead measured
  export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
  { echo "load average before: $(cut -d" " -f1-3 /proc/loadavg)"
    $PA --version --verbose | sed -n '2p;4,5p'
    echo "threads: 1 (OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1)"
    echo "index: 100000 x 128, 256 partitions, 16 sub-vectors; 1000 queries, k 10, nprobes 16"
    for i in 1 2 3; do
      echo "C:";      "$W/python_search_c" "$W/idx" "$W/q.npy" 10 16 3
      echo "Python:"; $PY "$ROOT/bench/python_search.py" "$W/idx" "$W/q.npy" 10 16 3
    done; } | tee "$OUT/overhead.txt"
  # medians over every run of each side
  $PY - "$OUT/overhead.txt" <<'PYEOF' | tee -a "$OUT/overhead.txt"
import statistics, sys
side, vals = None, {}
for line in open(sys.argv[1]):
    if line.rstrip() in ("C:", "Python:"):
        side = line.rstrip()[:-1]
    elif line.startswith("run "):
        f = line.split()
        for key, v in zip(f[2::2], f[3::2]):
            vals.setdefault((side, key), []).append(float(v))
for (side, key), v in sorted(vals.items()):
    print("median %-6s %-16s %10.1f  (%d runs)" % (side, key, statistics.median(v), len(v)))
PYEOF
  ;;
rss)
  W=$OUT/rss-work; rm -rf "$W"; mkdir -p "$W"
  $PA gen-vectors --out "$W/train.fvecs" --rows 20000 --dim 64 --clusters 100 --seed 4 >/dev/null
  $PA train --input "$W/train.fvecs" --partitions 256 --sub-vectors 16 --out "$W/model.lance" >/dev/null
  MEM=$((64 << 20)); ROWS=10000000; BATCH=100000
  { echo "baseline (no writer):"
    /usr/bin/time -v $PY "$ROOT/bench/python_artifact_rss.py" "$W/model.lance" "$W/a0" $ROWS $BATCH $MEM --baseline 2>&1 | grep -E "^rows|Maximum resident"
    echo "writer:"
    /usr/bin/time -v $PY "$ROOT/bench/python_artifact_rss.py" "$W/model.lance" "$W/artifact" $ROWS $BATCH $MEM 2>&1 | grep -E "^rows|Maximum resident|Elapsed"
    $PA verify "$W/artifact" | tail -1
    du -sh "$W/artifact"; } | tee "$OUT/rss.txt"
  rm -rf "$W/artifact"
  ;;
*) echo "usage: python_bench.sh overhead|rss [BUILD]" >&2; exit 2 ;;
esac
