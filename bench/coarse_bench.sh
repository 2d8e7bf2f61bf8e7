#!/usr/bin/env bash
# The coarse k-means and assignment against the sgemm peak (issue 13, the fp32 path): `partifact
# train` on the 1M x 128 generated vectors (bench/datasets.sh's gen) at P=256 (with --encode:
# assign + encode every row) and P=4096 (random seeding, the 1M-row sample: the scale
# benchmark's shape, train only), per phase, against a second build (OLD_BUILD: e.g. the
# branch start) in one run alternating new, old, new, old ... RUNS of each; medians. Each
# phase's floating-point work against the sgemm rate `partifact --version --json` measures
# before each run: coarse k-means 2 x sample x P x dim per iteration (ivf_iters of them) plus
# the final assignment of the sample, and the assignment of every row 2 x rows x P x dim (its
# share of assign + encode; the encode's PQ work is not counted). Env passes through (PA_AMX=0
# for the fp32 path once the AMX kernel is in).
# Usage: bench/coarse_bench.sh [BUILD_DIR]; env OLD_BUILD (unset: only BUILD), RUNS (3),
#        PARTS ("256 4096"), WORK (bench/out/coarse), SEED (1)
set -euo pipefail
BUILD=${1:-build}; PA="$(cd "$BUILD" && pwd)/partifact"
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/datasets.sh"
"$PA" --version --verbose # the CPU, BLAS kernels and sgemm rate of every figure below
RUNS=${RUNS:-3}; PARTS=${PARTS:-"256 4096"}; WORK=${WORK:-bench/out/coarse}; SEED=${SEED:-1}
OLD=""; [ -n "${OLD_BUILD:-}" ] && OLD="$(cd "$OLD_BUILD" && pwd)/partifact"
mkdir -p "$WORK"; WORK=$(cd "$WORK" && pwd)
bench_dataset gen
echo "load before: $(uptime)"
results="$WORK/coarse.jsonl"; : > "$results"
for P in $PARTS; do
  enc=(); [ "$P" -le 1024 ] && enc=(--encode)
  for run in $(seq 1 "$RUNS"); do
    for side in new old; do
      bin=$PA; [ $side = old ] && bin=$OLD
      [ -z "$bin" ] && continue
      gf=$("$bin" --version --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sgemm"]["gflops"])')
      "$bin" train --input "$base" --out "$WORK/model.lance" --force --partitions "$P" \
          --seed "$SEED" "${enc[@]}" --json > "$WORK/t.json"
      python3 - "$WORK/t.json" "$side" "$P" "$gf" >> "$results" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1])); t.update(side=sys.argv[2], P=int(sys.argv[3]), sgemm_gflops=float(sys.argv[4]))
print(json.dumps(t))
EOF
    done
  done
done
echo "load after: $(uptime)"
python3 - "$results" <<'EOF'
import json, statistics as st, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = lambda v: st.median(v) if v else float("nan")
print("| P | side | runs | train s | coarse s | coarse GFLOP | coarse % of sgemm | PQ s | assign+encode s | rows x P assign work / assign+encode s, % of sgemm | sgemm GFLOP/s |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for P in sorted({r["P"] for r in rows}):
    for side in ("new", "old"):
        rs = [r for r in rows if r["P"] == P and r["side"] == side]
        if not rs:
            continue
        r0 = rs[0]
        fl = 2.0 * r0["sample_rows"] * P * r0["dim"] * (r0["ivf_iters"] + 1) / 1e9
        ivf = med([r["ivf_seconds"] for r in rs]); g = med([r["sgemm_gflops"] for r in rs])
        ae = med([r.get("assign_encode_seconds", float("nan")) for r in rs])
        afl = 2.0 * r0["rows"] * P * r0["dim"] / 1e9
        print(f"| {P} | {side} | {len(rs)} | {med([r['train_seconds'] for r in rs]):.3f} | {ivf:.3f} "
              f"| {fl:.1f} | {100 * fl / ivf / g:.0f}% | {med([r['pq_seconds'] for r in rs]):.3f} "
              f"| {ae:.3f} | {100 * afl / ae / g:.0f}% | {g:.0f} |")
EOF
