#!/usr/bin/env bash
# AMX against the fp32 path through the CLI: partifact train (coarse k-means on AMX for every
# metric; PQ k-means on AMX for 64-value sub-vectors) and build give byte-identical models and
# artifact/index files with AMX on (the default where the CPU has it) and off (PA_AMX=0);
# without AMX the same with the AVX512-BF16 pass on (PA_BF16=1) and off; --version --json says
# which. Skipped (77) on a CPU with neither.
#   amx_cli.sh PARTIFACT SCRATCH
set -uo pipefail
PA=$1; T=$2; rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"

state=$("$PA" --version --json | python3 -c "import json,sys; print(json.load(sys.stdin)['amx']['state'])")
bf16=$("$PA" --version --json | python3 -c "import json,sys; print(json.load(sys.stdin)['bf16']['state'])")
if [ "$state" = used ]; then
  off=$(PA_AMX=0 PA_BF16=0 "$PA" --version --json | python3 -c "import json,sys; j=json.load(sys.stdin); a=j['amx']; print(a['used'], a['gflops'], j['bf16']['used'])")
  ON=(env) OFF=(env PA_AMX=0 PA_BF16=0)
elif [ "$(PA_BF16=1 "$PA" --version --json | python3 -c "import json,sys; print(json.load(sys.stdin)['bf16']['state'])")" = used ]; then
  # no AMX: the AVX512-BF16 pass (on with PA_BF16=1) against the fp32 path
  off=$("$PA" --version --json | python3 -c "import json,sys; j=json.load(sys.stdin); print(j['amx']['used'], j['amx']['gflops'], j['bf16']['used'])")
  ON=(env PA_BF16=1) OFF=(env PA_BF16=0)
else
  echo "skipped: AMX is $state, AVX512-BF16 $bf16"; exit 77
fi
if [ "$off" = "False None False" ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: off: $off"; fi

expect_exit 0 "$PA" gen-vectors --out "$T/a.fvecs" --rows 6000 --dim 128 --clusters 40 --seed 3
same() { # same A B: byte-identical files
  if cmp -s "$1" "$2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $1 != $2"; fi
}
for metric in l2 dot cosine; do
  for m in 16 2; do # 8-value sub-vectors (AVX-512) and 64-value ones (AMX)
    args=(train --input "$T/a.fvecs" --partitions 64 --sub-vectors $m --metric $metric --max-iters 8 --pq-iters 8)
    expect_exit 0 "${ON[@]}" "$PA" "${args[@]}" --out "$T/on-$metric-$m.lance"
    expect_exit 0 "${OFF[@]}" "$PA" "${args[@]}" --out "$T/off-$metric-$m.lance"
    same "$T/on-$metric-$m.lance" "$T/off-$metric-$m.lance"
  done
done
expect_exit 0 "${ON[@]}" "$PA" build --input "$T/a.fvecs" --out "$T/idx-on" --partitions 64 --sub-vectors 2 --max-iters 8 --pq-iters 8
expect_exit 0 "${OFF[@]}" "$PA" build --input "$T/a.fvecs" --out "$T/idx-off" --partitions 64 --sub-vectors 2 --max-iters 8 --pq-iters 8
n=0
for f in $(cd "$T/idx-on" && find . -type f -name '*.lance' -o -type f -name '*.idx' | sort); do
  same "$T/idx-on/$f" "$T/idx-off/$f"; n=$((n+1))
done
if [ "$n" -gt 0 ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: no index files compared"; fi
finish
