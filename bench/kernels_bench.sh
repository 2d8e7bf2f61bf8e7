#!/usr/bin/env bash
# BLAS kernels: sgemm GFLOP/s (partifact --version --json: 1024^3, best of 3 after a warm-up)
# and `partifact build` on ROWS x 128 generated vectors (P=256, M=16) under each core, in one
# run, alternating (off on cli prescott haswell skylakex, off on ...), RUNS runs, medians:
#   off   PARTIFACT_BLAS_AUTO=0: the kernels OpenBLAS chooses by itself
#   cli   the CLI as shipped: OpenBLAS's choice, corrected by a re-exec where it is weak
#   NAME  OPENBLAS_CORETYPE=NAME, forced (Haswell only with AVX2, SkylakeX only with AVX-512)
# Then the cost of the re-exec: `partifact --version` REEXEC times with and without one
# (PARTIFACT_BLAS_TEST_CORE=Prescott simulates a weak core where OpenBLAS picks a good one;
# without one: PARTIFACT_OMP_AUTO=0 PARTIFACT_BLAS_AUTO=0, as either correction re-executes).
# Then sgemm alone (bench/sgemm.c) SGEMM_RUNS times on 2 threads and 1, under OpenBLAS's
# choice, forced Prescott and Haswell, and BLIS when BLIS names a libblis.so (Debian's, not a
# partifact dependency: `apt-get download libblis4-openmp && dpkg-deb -x libblis4-*.deb DIR`,
# then BLIS=DIR/usr/lib/x86_64-linux-gnu/blis-openmp/libblis.so.4).
# Usage: bench/kernels_bench.sh [BUILD_DIR [--check-reexec]]; env RUNS (5), ROWS (200000),
#        REEXEC (30), SGEMM_RUNS (9), BLIS (unset), WORK (bench/out/kernels)
# --check-reexec: only check that the re-exec comparison's two environments run without a
# re-exec and with both corrections (partifact --version --verbose), exit 1 if not.
set -euo pipefail
BUILD=${1:-build}; PA="$(cd "$BUILD" && pwd)/partifact"
unset OPENBLAS_CORETYPE PARTIFACT_BLAS_AUTO PARTIFACT_BLAS_TEST_CORE PARTIFACT_OMP_AUTO
unset GOMP_SPINCOUNT OMP_WAIT_POLICY # (either set: no OpenMP correction, so no re-exec for it)
NO_REEXEC_ENV="PARTIFACT_BLAS_TEST_CORE=Prescott PARTIFACT_OMP_AUTO=0 PARTIFACT_BLAS_AUTO=0"
REEXEC_ENV="PARTIFACT_BLAS_TEST_CORE=Prescott"
if [ "${2:-}" = --check-reexec ]; then
  # shellcheck disable=SC2086 # (the env words split on purpose)
  no=$(env $NO_REEXEC_ENV "$PA" --version --verbose); re=$(env $REEXEC_ENV "$PA" --version --verbose)
  ok=1
  grep -q "openmp wait: libgomp's default" <<<"$no" || { echo "no-reexec: OpenMP set by partifact"; ok=0; }
  grep -q "corrected from" <<<"$no" && { echo "no-reexec: BLAS core corrected"; ok=0; }
  grep -q "set by partifact" <<<"$re" || { echo "reexec: OpenMP not set by partifact"; ok=0; }
  [ "$ok" = 1 ] && echo "re-exec comparison: environments ok"
  [ "$ok" = 1 ]; exit
fi
"$PA" --version --verbose # the CPU, BLAS kernels and sgemm rate of every figure below
RUNS=${RUNS:-5}; ROWS=${ROWS:-200000}; REEXEC=${REEXEC:-30}; WORK=${WORK:-bench/out/kernels}
SGEMM_RUNS=${SGEMM_RUNS:-9}; BLIS=${BLIS:-}; HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$WORK"; WORK=$(cd "$WORK" && pwd)
base="$WORK/base-$ROWS.fvecs"
[ -f "$base" ] || "$PA" gen-vectors --out "$base" --rows "$ROWS" --dim 128 --clusters 1000 --seed 1 >/dev/null
features=$("$PA" --version --json | sed 's/.*"features":"\([^"]*\)".*/\1/')
variants="off cli Prescott"
case " $features " in *" avx2 "*) variants="$variants Haswell" ;; esac
case " $features " in *" avx512f "*) variants="$variants SkylakeX" ;; esac
envof() {
  case $1 in
    off) echo PARTIFACT_BLAS_AUTO=0 ;;
    cli) echo PA_BENCH=1 ;;
    *) echo "OPENBLAS_CORETYPE=$1" ;;
  esac
}
echo "load before: $(uptime)"
results="$WORK/results.tsv"; : > "$results"
for run in $(seq 1 "$RUNS"); do
  for v in $variants; do
    e=$(envof "$v")
    env "$e" "$PA" --version --json > "$WORK/v.json"
    rm -rf "$WORK/idx"
    env "$e" "$PA" build --input "$base" --out "$WORK/idx" --partitions 256 --sub-vectors 16 \
        --json > "$WORK/b.json"
    python3 - "$v" "$run" "$WORK/v.json" "$WORK/b.json" >> "$results" <<'PY'
import json, sys
v, run, vj, bj = sys.argv[1:]
a, b = json.load(open(vj)), json.load(open(bj))
print("\t".join(str(x) for x in (v, run, a["blas"]["core"], a["blas"]["source"],
      a["sgemm"]["gflops"], b["train_seconds"], b["encode_seconds"], b["finalize_seconds"],
      b["seconds"])))
PY
    tail -1 "$results" >&2
  done
done
rm -rf "$WORK/idx"
echo "load after: $(uptime)"
# re-exec cost: wall time of `partifact --version`, microseconds
t() { local s; s=$(date +%s%N); env "$@" "$PA" --version >/dev/null; echo $(( ($(date +%s%N) - s) / 1000 )); }
for i in $(seq 1 "$REEXEC"); do
  # shellcheck disable=SC2086
  echo "no-reexec $(t $NO_REEXEC_ENV)"
  # shellcheck disable=SC2086
  echo "reexec $(t $REEXEC_ENV)"
done > "$WORK/reexec.txt"
# sgemm alone, by library and core
OB_DIR=/usr/lib/x86_64-linux-gnu/openblas-openmp
cc -O2 "$HERE/sgemm.c" -o "$WORK/sgemm-openblas" -L"$OB_DIR" -Wl,-rpath,"$OB_DIR" -lopenblas
[ -z "$BLIS" ] || cc -O2 "$HERE/sgemm.c" -o "$WORK/sgemm-blis" "$BLIS" -Wl,-rpath,"$(dirname "$BLIS")" -fopenmp
for i in $(seq 1 "$SGEMM_RUNS"); do
  for th in 2 1; do
    echo "openblas-default-$th $(OMP_NUM_THREADS=$th "$WORK/sgemm-openblas")"
    echo "openblas-Prescott-$th $(OMP_NUM_THREADS=$th OPENBLAS_CORETYPE=Prescott "$WORK/sgemm-openblas")"
    case $variants in *Haswell*)
      echo "openblas-Haswell-$th $(OMP_NUM_THREADS=$th OPENBLAS_CORETYPE=Haswell "$WORK/sgemm-openblas")" ;;
    esac
    [ -z "$BLIS" ] || echo "blis-$th $(OMP_NUM_THREADS=$th BLIS_NUM_THREADS=$th "$WORK/sgemm-blis")"
  done
done > "$WORK/sgemm.txt"
echo "load after sgemm: $(uptime)"
python3 - "$WORK/sgemm.txt" <<'PY'
import sys, statistics as st
t = {}
for l in open(sys.argv[1]):
    k, v = l.split()
    t.setdefault(k, []).append(float(v))
print(f"\nsgemm 1024^3 GFLOP/s, medians of {len(next(iter(t.values())))} runs (min-max)")
for k, v in t.items():
    print(f"  {k}: {st.median(v):.1f} ({min(v):.1f}-{max(v):.1f})")
PY
python3 - "$results" "$WORK/reexec.txt" "$ROWS" <<'PY'
import sys, statistics as st
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
print(f"\n{sys.argv[3]} x 128, P=256, M=16; medians of {len(rows) // len({r[0] for r in rows})} runs")
print("| kernels | core | sgemm GFLOP/s | train s | encode s | finalize s | build s |")
print("|---|---|---|---|---|---|---|")
for v in dict.fromkeys(r[0] for r in rows):
    rs = [r for r in rows if r[0] == v]
    med = lambda i: st.median(float(r[i]) for r in rs)
    core = rs[0][2] + ("" if rs[0][3] != "corrected" else " (corrected)")
    print(f"| {v} | {core} | {med(4):.1f} | {med(5):.2f} | {med(6):.2f} | {med(7):.3f} | {med(8):.2f} |")
t = {}
for l in open(sys.argv[2]):
    k, us = l.split()
    t.setdefault(k, []).append(int(us))
print(f"\npartifact --version: {st.median(t['no-reexec']) / 1000:.1f} ms without re-exec, "
      f"{st.median(t['reexec']) / 1000:.1f} ms with one (medians of {len(t['reexec'])})")
PY
