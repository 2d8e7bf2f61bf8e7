#!/usr/bin/env bash
# OpenMP's wait: where the user set neither GOMP_SPINCOUNT nor OMP_WAIT_POLICY the CLI runs with
# GOMP_SPINCOUNT=10000 (libgomp's own display, OMP_DISPLAY_ENV, of the process that does the
# work shows it), by one re-exec joined with the BLAS correction's; a variable the user set, or
# PARTIFACT_OMP_AUTO=0, is left alone; --version names the wait and who chose it; and a model
# trained with either wait is the same, byte for byte.
PA=$1; T=$2; rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"
unset GOMP_SPINCOUNT OMP_WAIT_POLICY PARTIFACT_OMP_AUTO PARTIFACT_OMP_SET OPENBLAS_CORETYPE \
      PARTIFACT_BLAS_AUTO PARTIFACT_BLAS_TEST_CORE PARTIFACT_BLAS_CORRECTED_FROM
check() { if [ "$2" = "$3" ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $1: got '$2', want '$3'"; fi; }
# spin ENV...: the spin counts libgomp displayed, one per process started (space-separated)
spin() {
  env OMP_DISPLAY_ENV=verbose "$@" "$PA" --version --verbose >"$T/out" 2>"$T/err"
  sed -n "s/^ *GOMP_SPINCOUNT = '\([0-9]*\)'$/\1/p" "$T/err" | paste -sd' '
}
wait_line() { grep '^openmp wait: ' "$T/out"; }

check "default: one re-exec, then 10000" "$(spin)" "300000 10000"
check "default: named" "$(wait_line)" \
      "openmp wait: GOMP_SPINCOUNT=10000, set by partifact (PARTIFACT_OMP_AUTO=0 leaves libgomp's default)"
check "the user's GOMP_SPINCOUNT" "$(spin GOMP_SPINCOUNT=777)" "777"
check "the user's GOMP_SPINCOUNT named" "$(wait_line)" "openmp wait: GOMP_SPINCOUNT=777, set in the environment"
check "the user's OMP_WAIT_POLICY" "$(spin OMP_WAIT_POLICY=passive)" "0"
check "the user's OMP_WAIT_POLICY named" "$(wait_line)" "openmp wait: OMP_WAIT_POLICY=passive, set in the environment"
check "PARTIFACT_OMP_AUTO=0" "$(spin PARTIFACT_OMP_AUTO=0)" "300000"
check "PARTIFACT_OMP_AUTO=0 named" "$(wait_line)" "openmp wait: libgomp's default"
# with the BLAS correction: still one re-exec, and both corrections named
check "with the BLAS correction" "$(spin PARTIFACT_BLAS_TEST_CORE=Prescott)" "300000 10000"
check "with the BLAS correction named" "$(wait_line)" \
      "openmp wait: GOMP_SPINCOUNT=10000, set by partifact (PARTIFACT_OMP_AUTO=0 leaves libgomp's default)"
"$PA" --version --json >"$T/v.json"
check "--json" "$(grep -o '"openmp_wait":{[^}]*}' "$T/v.json")" \
      '"openmp_wait":{"variable":"GOMP_SPINCOUNT","value":"10000","set_by":"partifact"}'
PARTIFACT_OMP_AUTO=0 "$PA" --version --json >"$T/v0.json"
check "--json, default" "$(grep -o '"openmp_wait":{[^}]*}' "$T/v0.json")" \
      '"openmp_wait":{"variable":null,"value":null,"set_by":"default"}'

# the same model whichever wait runs
expect_exit 0 "$PA" gen-vectors --out "$T/x.fvecs" --rows 4000 --dim 32 --clusters 20 --seed 5
expect_exit 0 "$PA" train --input "$T/x.fvecs" --partitions 16 --sub-vectors 4 --seed 2 --out "$T/a.lance"
expect_exit 0 env PARTIFACT_OMP_AUTO=0 "$PA" train --input "$T/x.fvecs" --partitions 16 --sub-vectors 4 \
    --seed 2 --out "$T/b.lance"
expect_exit 0 cmp "$T/a.lance" "$T/b.lance"
finish
