#!/usr/bin/env bash
# search's scan kernels through the CLI, on clustered data (20,000 x 32, 32 partitions, M 16):
# - a 4-bit index is searched by the fast scan by default (--json says so), --no-fast-scan
#   gives the plain ADC scan; recall@10 of the fast scan within 0.02 of the plain scan's and
#   above a floor; --rerank large enough to re-rank every probed row gives the plain scan's ids;
# - every kernel (PA_KERNEL=scalar, avx2, the CPU's best) writes the same result ids, for the
#   4-bit fast scan, the 4-bit plain scan and the 8-bit scan; so does --memory (partitions
#   re-laid as they enter the cache).
# - --batch N (queries per library call, each call timed) gives the same ids as one batch, for
#   the fast scan, with refine and for 8-bit codes; --json reports the batch and the calls'
#   p50 / p99 latency.
#   fastscan_cli.sh PARTIFACT SCRATCH
set -uo pipefail
PA=$1; T=$2; rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$PA" gen-vectors --out "$T/base.fvecs" --rows 20000 --dim 32 --clusters 64 --seed 5
expect_exit 0 "$PA" gen-vectors --out "$T/q.fvecs" --rows 300 --dim 32 --clusters 64 --seed 5 \
    --first-row 1000000
expect_exit 0 "$PA" groundtruth --input "$T/base.fvecs" --queries "$T/q.fvecs" -k 10 \
    --out "$T/gt.ivecs"
expect_exit 0 "$PA" build --input "$T/base.fvecs" --out "$T/idx4" --partitions 32 \
    --sub-vectors 16 --bits 4 --max-iters 5 --pq-iters 10
expect_exit 0 "$PA" build --input "$T/base.fvecs" --out "$T/idx8" --partitions 32 \
    --sub-vectors 16 --max-iters 5 --pq-iters 10

search() { # search OUT INDEX [options]: ids to OUT, the --json line to OUT.json (nprobes 4)
  local out=$1 idx=$2; shift 2
  case " $* " in *" --nprobes "*) ;; *) set -- --nprobes 4 "$@" ;; esac
  "$PA" search --index "$T/$idx" --queries "$T/q.fvecs" --groundtruth "$T/gt.ivecs" -k 10 \
      --threads 2 --out "$T/$out" --json "$@" >"$T/$out.json" 2>"$T/err" ||
      { fail=$((fail+1)); echo "FAIL: search $idx $*"; cat "$T/err"; }
}
json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$T/$1" "$2"; }
same() { # same A B: the two result files are byte-identical
  if cmp -s "$T/$1" "$T/$2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $1 != $2"; fi
}
check() { # check DESCRIPTION PYTHON-EXPRESSION
  if python3 -c "import sys; sys.exit(0 if ($2) else 1)"; then pass=$((pass+1));
  else fail=$((fail+1)); echo "FAIL: $1 ($2)"; fi
}

search fast.ivecs idx4
search plain.ivecs idx4 --no-fast-scan
check "the fast scan ran" "'$(json fast.ivecs.json fast_scan)' == 'True'"
check "--no-fast-scan: the plain scan" "'$(json plain.ivecs.json fast_scan)' == 'False'"
rf=$(json fast.ivecs.json recall); rp=$(json plain.ivecs.json recall)
echo "recall@10, nprobes 4: fast scan $rf, plain $rp"
check "fast-scan recall near the plain scan's" "$rf >= $rp - 0.02 and $rf >= 0.45"
# every probed row re-ranked: the plain scan's answer
search all-fast.ivecs idx4 --nprobes 32 --rerank 1000
search all-plain.ivecs idx4 --nprobes 32 --no-fast-scan
same all-fast.ivecs all-plain.ivecs
for k in scalar avx2; do
  PA_KERNEL=$k search "fast-$k.ivecs" idx4
  PA_KERNEL=$k search "plain-$k.ivecs" idx4 --no-fast-scan
  PA_KERNEL=$k search "r8-$k.ivecs" idx8
  same fast.ivecs "fast-$k.ivecs"
  same plain.ivecs "plain-$k.ivecs"
done
search r8.ivecs idx8
same r8.ivecs r8-scalar.ivecs
check "8-bit: no fast scan" "'$(json r8.ivecs.json fast_scan)' == 'False'"
search fast-mem.ivecs idx4 --memory 64KiB # the largest partition and about one more
same fast.ivecs fast-mem.ivecs
search b1-fast.ivecs idx4 --batch 1
same fast.ivecs b1-fast.ivecs
search b7-r8.ivecs idx8 --batch 7
same r8.ivecs b7-r8.ivecs
search refine.ivecs idx4 --refine-factor 4 --input "$T/base.fvecs"
search b1-refine.ivecs idx4 --refine-factor 4 --input "$T/base.fvecs" --batch 1
same refine.ivecs b1-refine.ivecs
check "--batch 1: the batch reported" "$(json b1-fast.ivecs.json batch) == 1"
check "--batch 1: 0 < p50 <= p99" \
    "0 < $(json b1-fast.ivecs.json latency_p50_us) <= $(json b1-fast.ivecs.json latency_p99_us)"
check "one batch: its latency is the pass" \
    "$(json fast.ivecs.json latency_p50_us) == $(json fast.ivecs.json latency_p99_us)"
finish
