#!/usr/bin/env bash
# The benchmarks refuse to compare against a FAISS whose compile options have neither AVX2 nor
# AVX512 (Debian's generic build) unless FAISS_CORRECTNESS_ONLY=1, which labels the run
# "Debian generic build: correctness only"; a FAISS built for the CPU is taken as it is; the
# header names the version, the commit (faiss_build.sh's faiss-commit) and the compile options.
# Stand-in faiss modules on FAISS_PYTHONPATH play the builds (no FAISS is needed).
PA=$1; T=$2; rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/../cli/lib.sh"
BENCH=$(cd "$(dirname "$0")/../../bench" && pwd)
stub() { # stub DIR VERSION OPTIONS
  mkdir -p "$1/faiss"
  printf '__version__ = "%s"\ndef get_compile_options():\n    return "%s"\n' "$2" "$3" > "$1/faiss/__init__.py"
}
stub "$T/generic" 1.7.3 "OPTIMIZE GENERIC"
stub "$T/build/faiss/python/build/lib" 1.15.0 "OPTIMIZE AVX512 "
echo 0123456789abcdef > "$T/build/faiss-commit"

refusal="its compile options (OPTIMIZE GENERIC) have neither AVX2 nor AVX512 (a generic build)"
FAISS_PYTHONPATH=$T/generic expect_err 2 "$refusal" /usr/bin/python3 "$BENCH/faiss_common.py" --header
FAISS_PYTHONPATH=$T/generic FAISS_CORRECTNESS_ONLY=1 expect_exit 0 /usr/bin/python3 "$BENCH/faiss_common.py" --header
expect_out "faiss 1.7.3 (unknown), compile options: OPTIMIZE GENERIC,"
expect_out " -- Debian generic build: correctness only"
FAISS_PYTHONPATH=$T/build/faiss/python/build/lib expect_exit 0 /usr/bin/python3 "$BENCH/faiss_common.py" --header
expect_out "faiss 1.15.0 (0123456789abcdef), compile options: OPTIMIZE AVX512 ,"
if grep -q "correctness only" "$T/out"; then fail=$((fail+1)); echo "FAIL: an AVX512 build labelled correctness only"; else pass=$((pass+1)); fi
# the benchmark scripts stop before any work (no data made, no ratio printed)
for b in build_vs_faiss.sh backend_bench.sh index_bench.sh scale_bench.sh; do
  FAISS_PYTHONPATH=$T/generic WORK=$T/work-$b expect_exit 2 "$BENCH/$b" "$(dirname "$PA")"
  if grep -qF "$refusal" "$T/err" && [ ! -e "$T/work-$b" ]; then pass=$((pass+1)); else
    fail=$((fail+1)); echo "FAIL: $b did not refuse the generic FAISS before any work"; cat "$T/err"; fi
done
finish
