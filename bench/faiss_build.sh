#!/bin/sh
# Builds FAISS from a source tree for this machine's CPU, Python bindings included: the honest
# CPU peer of the build and search benchmarks (Debian's python3-faiss is a generic build, no
# AVX2 or AVX-512; the benchmarks use it only as a correctness reference).
#
# Usage: bench/faiss_build.sh SRC [BUILD]
#   SRC    a FAISS source tree. Get one with the search tool's `fetch`
#          github:facebookresearch/faiss (a bare git dir DIR), then
#            mkdir SRC && git --git-dir=DIR archive HEAD | tar -x -C SRC
#          and record `git --git-dir=DIR rev-parse HEAD` (written to BUILD/faiss-commit when
#          SRC/.faiss-commit or the env FAISS_COMMIT names it). The figures in BENCHMARKS.md
#          used commit 02dbb4e42f49aa2ce57cd78977b0e47a11f7cb91 (v1.15.0-9, 2026-08-08).
#   BUILD  the build folder (default SRC/build). Afterwards
#            FAISS_PYTHONPATH=$(cat BUILD/faiss-pythonpath)
#          is what the benchmarks take (bench/faiss_common.py); BUILD/faiss-opt-level names
#          the instruction set for FAISS's loader (FAISS_OPT_LEVEL at import: the loader's own
#          CPU probe fails with Debian 12's numpy 1.24, it imports numpy._core).
#
# FAISS_OPT_LEVEL: avx512 where the CPU has AVX-512 (F, CD, VL, DQ, BW), else avx2 where it has
# AVX2 and FMA, else generic; set it to override (avx512_spr, avx2, generic). JOBS (default 2)
# and NICE (default 19) shape the make run so that it leaves the cores to others.
# Needs (Debian 12): apt-get install -y swig python3-dev python3-numpy python3-packaging
#   python3-setuptools libopenblas-dev cmake g++   (not in the Makefile's APT_PKGS: the peer is
#   no dependency of partifact's tests).
# About 15 minutes on 2 free cores.
set -eu
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 SRC [BUILD]" >&2; exit 2; }
SRC=$(cd "$1" && pwd)
BUILD=${2:-$SRC/build}
[ -f "$SRC/faiss/IndexIVFPQ.h" ] || { echo "$0: $SRC is not a FAISS source tree (no faiss/IndexIVFPQ.h)" >&2; exit 2; }
PY=${PYTHON:-/usr/bin/python3}
JOBS=${JOBS:-2}
NICE=${NICE:-19}

flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
has() { for f in "$@"; do case " $flags " in *" $f "*) ;; *) return 1 ;; esac; done; }
if [ -z "${FAISS_OPT_LEVEL:-}" ]; then
  if has avx512f avx512cd avx512vl avx512dq avx512bw; then FAISS_OPT_LEVEL=avx512
  elif has avx2 fma; then FAISS_OPT_LEVEL=avx2
  else FAISS_OPT_LEVEL=generic; fi
fi
case $FAISS_OPT_LEVEL in
  generic) target=swigfaiss ;;
  avx2 | avx512 | avx512_spr) target=swigfaiss_$FAISS_OPT_LEVEL ;;
  *) echo "$0: FAISS_OPT_LEVEL=$FAISS_OPT_LEVEL: expected generic, avx2, avx512 or avx512_spr" >&2; exit 2 ;;
esac
echo "faiss_build: $SRC -> $BUILD, FAISS_OPT_LEVEL=$FAISS_OPT_LEVEL, target $target, make -j$JOBS under nice $NICE"

mkdir -p "$BUILD"
cmake -S "$SRC" -B "$BUILD" -DFAISS_ENABLE_GPU=OFF -DFAISS_ENABLE_PYTHON=ON -DFAISS_ENABLE_MKL=OFF \
  -DFAISS_ENABLE_EXTRAS=OFF -DBUILD_TESTING=OFF -DFAISS_OPT_LEVEL="$FAISS_OPT_LEVEL" \
  -DCMAKE_BUILD_TYPE=Release -DBLA_VENDOR=OpenBLAS -DPython_EXECUTABLE="$PY" >"$BUILD/cmake.log"
nice -n "$NICE" make -C "$BUILD" -j"$JOBS" "$target"
(cd "$BUILD/faiss/python" && nice -n "$NICE" "$PY" setup.py build >"$BUILD/setup.log")
lib=$(cd "$BUILD/faiss/python/build" && ls -d lib*/faiss | head -n 1)
pp=$BUILD/faiss/python/build/$(dirname "$lib")
commit=${FAISS_COMMIT:-$(cat "$SRC/.faiss-commit" 2>/dev/null || echo unknown)}
echo "$commit" >"$BUILD/faiss-commit"
echo "$pp" >"$BUILD/faiss-pythonpath"
# the loader's instruction set (its CPU probe needs numpy 2; faiss_common.py reads this file)
loader=$(echo "$FAISS_OPT_LEVEL" | tr a-z A-Z); [ "$loader" = GENERIC ] && loader=
echo "$loader" >"$BUILD/faiss-opt-level"
FAISS_OPT_LEVEL=$loader PYTHONPATH=$pp "$PY" -c 'import faiss; print("faiss", faiss.__version__, faiss.get_compile_options())'
echo "faiss_build: FAISS_PYTHONPATH=$pp"
