#!/usr/bin/env bash
# The BLAS kernels: `--version --verbose` / `--json` name the CPU and the core in use; an
# explicit OPENBLAS_CORETYPE is respected (no re-exec), a weak core is corrected once by a
# re-exec (simulated with PARTIFACT_BLAS_TEST_CORE where OpenBLAS picks good kernels by
# itself), the guard stops a second re-exec and PARTIFACT_BLAS_AUTO=0 turns the correction
# off. And results agree whichever kernels run: train + encode + finalize + search the same
# data under Prescott, Haswell, the default and the corrected kernels gives the same neighbours.
PA=$1; T=$2; rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"
unset OPENBLAS_CORETYPE PARTIFACT_BLAS_AUTO PARTIFACT_BLAS_TEST_CORE PARTIFACT_BLAS_CORRECTED_FROM

# jfield FILE KEY: a string/number/bool/null field of the --json line (keys are unique)
jfield() { sed -n "s/.*\"$2\":\"\{0,1\}\([^\",}]*\).*/\1/p" "$1"; }
check() { if [ "$2" = "$3" ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $1: got '$2', want '$3'"; fi; }

expect_exit 0 "$PA" --version
check "plain --version" "$(cat "$T/out")" "partifact 0.2.0"

expect_exit 0 "$PA" --version --json
cp "$T/out" "$T/default.json"
core=$(jfield "$T/default.json" core); features=$(jfield "$T/default.json" features)
rec=$(jfield "$T/default.json" recommended_core); source=$(jfield "$T/default.json" source)
check "default core named" "$([ -n "$core" ] && echo yes)" yes
expect_exit 0 "$PA" --version --verbose
expect_out "blas core: $core, "
expect_out "cpu: "
expect_out "simd: $features"
expect_out "sgemm: 1024^3, best of 3 after a warm-up: "

# the correction turned off: the core OpenBLAS chose by itself
PARTIFACT_BLAS_AUTO=0 "$PA" --version --json >"$T/auto0.json"
own=$(jfield "$T/auto0.json" core)
check "AUTO=0 source" "$(jfield "$T/auto0.json" source)" openblas
if [ "$source" = corrected ]; then # this CPU's OpenBLAS picks weak kernels: corrected to rec
  check "default corrected to" "$core" "$rec"
  check "default corrected from" "$(jfield "$T/default.json" corrected_from)" "$own"
else
  check "default not corrected" "$source/$core" "openblas/$own"
fi

# an explicit core is respected, even a weak one, and even where a test core says "weak"
OPENBLAS_CORETYPE=Prescott "$PA" --version --json >"$T/prescott.json"
check "explicit Prescott core" "$(jfield "$T/prescott.json" core)" Prescott
check "explicit Prescott source" "$(jfield "$T/prescott.json" source)" environment
check "explicit Prescott weak" "$(jfield "$T/prescott.json" weak)" "$([ -n "$rec" ] && echo true || echo false)"
OPENBLAS_CORETYPE=Prescott PARTIFACT_BLAS_TEST_CORE=Prescott "$PA" --version --json >"$T/p2.json"
check "explicit Prescott, test core" "$(jfield "$T/p2.json" core)/$(jfield "$T/p2.json" source)" \
      Prescott/environment
OPENBLAS_CORETYPE=Prescott "$PA" --version --verbose >"$T/out"
expect_out "blas core: Prescott, "
expect_out "set by OPENBLAS_CORETYPE=Prescott"
if [ -n "$rec" ]; then expect_out "blas warning: OpenBLAS runs its Prescott kernels on a CPU that allows $rec: set OPENBLAS_CORETYPE=$rec in the environment before the library is loaded"; fi

# a weak core is corrected by one re-exec; the guard stops a second; AUTO=0 stops the first
PARTIFACT_BLAS_TEST_CORE=Prescott "$PA" --version --json >"$T/fixed.json"
if [ -n "$rec" ]; then
  check "corrected core" "$(jfield "$T/fixed.json" core)/$(jfield "$T/fixed.json" source)" "$rec/corrected"
  check "corrected from" "$(jfield "$T/fixed.json" corrected_from)" Prescott
  PARTIFACT_BLAS_TEST_CORE=Prescott "$PA" --version --verbose >"$T/out"
  expect_out "blas core: $rec, "
  expect_out "corrected from Prescott by partifact (OPENBLAS_CORETYPE=$rec)"
else
  check "nothing better to correct to" "$(jfield "$T/fixed.json" source)" openblas
fi
PARTIFACT_BLAS_TEST_CORE=Prescott PARTIFACT_BLAS_CORRECTED_FROM=Prescott "$PA" --version --json >"$T/g.json"
check "guard: no re-exec" "$(jfield "$T/g.json" source)/$(jfield "$T/g.json" core)" "openblas/$own"
PARTIFACT_BLAS_TEST_CORE=Prescott PARTIFACT_BLAS_AUTO=0 "$PA" --version --json >"$T/a.json"
check "AUTO=0: no re-exec" "$(jfield "$T/a.json" source)/$(jfield "$T/a.json" core)" "openblas/$own"
expect_err 2 'partifact --version: unknown option "--bogus" (--verbose, --json)' "$PA" --version --bogus

# ---- results agree whichever kernels run ----
# 32 tight clusters (centres uniform in [-100, 100]^32, rows the centre +- 0.5 per coordinate),
# row i in cluster i % 32; the queries are the centres. A query's 40 nearest rows are exactly
# its cluster, with a margin no float rounding, k-means or PQ difference between kernels can
# close: a row is at most 2.8 from its centre, the nearest other centre is 271 away (and at
# least 64 in each 8-dimension sub-vector, so every PQ codeword stays inside one cluster).
# Probing every partition makes the answer independent of how clusters fall into partitions.
# Rows within a cluster may rank differently under different kernels: the ids are compared
# as sets (sorted).
python3 - "$T/base.fvecs" "$T/q.fvecs" <<'EOF'
import random, struct, sys
C, R, D = 32, 40, 32
rng = random.Random(13)
centres = [[rng.uniform(-100, 100) for _ in range(D)] for _ in range(C)]
with open(sys.argv[1], "wb") as f:
    for i in range(C * R):
        c = centres[i % C]
        f.write(struct.pack("<i%df" % D, D, *[x + rng.uniform(-0.5, 0.5) for x in c]))
with open(sys.argv[2], "wb") as f:
    for c in centres:
        f.write(struct.pack("<i%df" % D, D, *c))
EOF
# sorted neighbour ids per query, one line each
ids() { python3 -c '
import struct, sys
b = open(sys.argv[1], "rb").read(); o = 0
while o < len(b):
    (k,) = struct.unpack_from("<i", b, o); o += 4
    print(" ".join(map(str, sorted(struct.unpack_from("<%di" % k, b, o))))); o += 4 * k' "$1"; }
python3 -c 'print("\n".join(" ".join(str(c + 32 * r) for r in range(40)) for c in range(32)))' >"$T/want.txt"

variants="Prescott default"
[ -n "$rec" ] && variants="$variants Haswell corrected" # Haswell's kernels need AVX2 and FMA
for v in $variants; do
  case $v in
    default) envs=() ;;
    corrected) envs=(PARTIFACT_BLAS_TEST_CORE=Prescott) ;;
    *) envs=(OPENBLAS_CORETYPE=$v) ;;
  esac
  run() { env "${envs[@]}" "$PA" "$@"; }
  expect_exit 0 run train --input "$T/base.fvecs" --partitions 8 --sub-vectors 4 --max-iters 10 \
      --seed 3 --out "$T/$v.model.lance"
  expect_exit 0 run encode --input "$T/base.fvecs" --model "$T/$v.model.lance" --out "$T/$v.art"
  expect_exit 0 run finalize --artifact "$T/$v.art" --out "$T/$v.idx"
  expect_exit 0 run search --index "$T/$v.idx" --queries "$T/q.fvecs" -k 40 --nprobes 8 \
      --out "$T/$v.ivecs"
  ids "$T/$v.ivecs" >"$T/$v.txt"
  expect_exit 0 cmp "$T/want.txt" "$T/$v.txt"
  expect_exit 0 run search --index "$T/$v.idx" --queries "$T/q.fvecs" -k 40 --nprobes 8 \
      --refine-factor 2 --input "$T/base.fvecs" --out "$T/$v.r.ivecs"
  ids "$T/$v.r.ivecs" >"$T/$v.r.txt"
  expect_exit 0 cmp "$T/want.txt" "$T/$v.r.txt"
done
echo "kernels compared: $variants"
finish
