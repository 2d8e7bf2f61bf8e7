# The FAISS peer of the benchmarks (sourced; needs HERE, bench/). $FAISS_PY runs a FAISS-side
# script with the FAISS that faiss_common.py picks (FAISS_PYTHONPATH: a build from
# bench/faiss_build.sh; else Debian's python3-faiss, refused as generic unless
# FAISS_CORRECTNESS_ONLY=1) on the OpenBLAS that FAISS_BLAS names: openmp (default: the one
# partifact links, OpenMP threads like FAISS's own, as FAISS's maintainers advise in
# facebookresearch/faiss#3700: the pthread build can run N OpenBLAS threads under each of N
# OpenMP threads) or pthread (Debian's default libopenblas.so.0 alternative).
# The peer runs the kernels OpenBLAS chooses by itself: an OPENBLAS_CORETYPE inherited from the
# environment (some machines preset Haswell on AVX-512 CPUs) is dropped for it, and
# FAISS_CORETYPE names a core to force instead (e.g. SkylakeX where OpenBLAS would choose
# Prescott). partifact's side keeps the environment, as a user runs it.
# faiss_peer_header prints the peer's header line (version, commit, compile options, OpenBLAS
# core) into FAISS_HEADER and stops the benchmark (exit 2) where the peer is refused.
FAISS_BLAS=${FAISS_BLAS:-openmp}
case $FAISS_BLAS in
  openmp | pthread) ;;
  *) echo "FAISS_BLAS=$FAISS_BLAS: expected openmp or pthread" >&2; exit 2 ;;
esac
FAISS_PY="env -u OPENBLAS_CORETYPE ${FAISS_CORETYPE:+OPENBLAS_CORETYPE=$FAISS_CORETYPE} LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-$FAISS_BLAS /usr/bin/python3"
faiss_peer_header() {
  FAISS_HEADER=$($FAISS_PY "$HERE/faiss_common.py" --header) || exit 2
  echo "$FAISS_HEADER"
}
