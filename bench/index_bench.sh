#!/usr/bin/env bash
# The whole build and search, side by side in one run: `partifact build` vs FAISS IndexIVFPQ
# train + add vs LanceDB's IVF_PQ index build on the same data and parameters; then recall@10
# and QPS (1,000 queries in one batch, both cores, median of 3 passes) at several nprobes for
# partifact and FAISS. RUNS runs of everything; medians; a PNG plot.
# Usage: bench/index_bench.sh [BUILD_DIR]; env RUNS (3), WORK (bench/out/index),
#        DATASETS ("gen fashion"), NPROBES ("1,5,10,20,50"), PLOT (bench/index_bench.png),
#        FAISS_PYTHONPATH, FAISS_CORRECTNESS_ONLY, FAISS_BLAS (bench/faiss_peer.sh)
set -euo pipefail
BUILD=${1:-build}; PA="$(cd "$BUILD" && pwd)/partifact"
"$PA" --version --verbose # the CPU, BLAS kernels and sgemm rate of every figure below
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/datasets.sh"; . "$HERE/faiss_peer.sh"; . "$HERE/bench_util.sh"
faiss_peer_header # the FAISS measured (FAISS_PYTHONPATH); stops here where it is a generic build
RUNS=${RUNS:-3}; WORK=${WORK:-bench/out/index}; DATASETS=${DATASETS:-"gen fashion"}
NPROBES=${NPROBES:-1,5,10,20,50}; PLOT=${PLOT:-$HERE/index_bench.png}; K=10
mkdir -p "$WORK"; WORK=$(cd "$WORK" && pwd)
jget() { python3 -c "import json,sys;print(json.load(open(sys.argv[1]))$2)" "$1"; }
results="$WORK/results.jsonl"; : > "$results"
for ds in $DATASETS; do
  bench_dataset "$ds"
  gt="$WORK/$ds-gt.ivecs"
  [ -f "$gt" ] || "$PA" groundtruth --input "$base" --queries "$queries" -k $K --out "$gt" >/dev/null
  for run in $(seq 1 "$RUNS"); do
    rm -rf "$WORK/idx"
    /usr/bin/time -v -o "$WORK/t.txt" "$PA" build --input "$base" --out "$WORK/idx" --partitions $P \
        --sub-vectors $M --seed $run --json > "$WORK/pa.json"
    pa_rss=$(peak "$WORK/t.txt")
    pa_search="["
    for np in ${NPROBES//,/ }; do
      "$PA" search --index "$WORK/idx" --queries "$queries" -k $K --nprobes $np --groundtruth "$gt" \
          --repeat 3 --json > "$WORK/s.json"
      pa_search+="{\"nprobes\":$np,\"recall\":$(jget "$WORK/s.json" "['recall']"),\"qps\":$(jget "$WORK/s.json" "['qps']")},"
    done
    pa_search="${pa_search%,}]"
    /usr/bin/time -v -o "$WORK/t.txt" $FAISS_PY "$HERE/faiss_search.py" "$base" "$queries" "$gt" \
        $P $M $K "$NPROBES" $run > "$WORK/faiss.json"
    fa_rss=$(peak "$WORK/t.txt")
    /usr/bin/time -v -o "$WORK/t.txt" node "$HERE/lancedb_ivfpq.mjs" "$base" $P $M "$WORK/lancedb" \
        2> >(grep -v ' WARN ' | grep -v 'Help: this could mean' >&2) > "$WORK/ldb.json"
    ld_rss=$(peak "$WORK/t.txt")
    python3 - "$ds" "$run" "$WORK/pa.json" "$pa_search" "$pa_rss" "$WORK/faiss.json" "$fa_rss" \
        "$WORK/ldb.json" "$ld_rss" >> "$results" <<'PY'
import json, sys
ds, run, pa, pas, parss, fa, farss, ld, ldrss = sys.argv[1:]
pa, fa, ld = json.load(open(pa)), json.load(open(fa)), json.load(open(ld))
print(json.dumps({"data": ds, "run": int(run),
  "pa_build": pa["seconds"], "pa_train": pa["train_seconds"], "pa_encode": pa["encode_seconds"],
  "pa_finalize": pa["finalize_seconds"], "pa_rss_kib": int(parss), "pa_search": json.loads(pas),
  "faiss_build": fa["build_seconds"], "faiss_rss_kib": int(farss), "faiss_search": fa["search"],
  "lancedb_build": ld["index_seconds"], "lancedb_rss_kib": int(ldrss)}))
PY
    echo "$ds run $run: partifact build $(jget "$WORK/pa.json" "['seconds']")s, faiss $(jget "$WORK/faiss.json" "['build_seconds']")s, lancedb $(jget "$WORK/ldb.json" "['index_seconds']")s" >&2
  done
done
rm -rf "$WORK/idx" "$WORK/lancedb"
/usr/bin/python3 - "$results" "$PLOT" "$FAISS_HEADER" <<'PY'
import json, sys, statistics as st
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"FAISS: {sys.argv[3]}\n")
names = {"gen": "generated 1,000,000 x 128", "fashion": "Fashion-MNIST 60,000 x 784"}
med = lambda v: st.median(v)
print("| data (P=256, M=16) | partifact build | FAISS train + add | LanceDB index build | FAISS / partifact | LanceDB / partifact | peak RSS partifact / FAISS / LanceDB |")
print("|---|---|---|---|---|---|---|")
summary = {}
for ds in dict.fromkeys(r["data"] for r in rows):
    g = [r for r in rows if r["data"] == ds]
    pa, fa, ld = (med([r[k] for r in g]) for k in ("pa_build", "faiss_build", "lancedb_build"))
    rss = [med([r[k] for r in g]) / 1024 for k in ("pa_rss_kib", "faiss_rss_kib", "lancedb_rss_kib")]
    parts = f"train {med([r['pa_train'] for r in g]):.2f} + encode {med([r['pa_encode'] for r in g]):.2f} + finalize {med([r['pa_finalize'] for r in g]):.2f}"
    print(f"| {names[ds]} | {pa:.2f} s ({parts}) | {fa:.2f} s | {ld:.2f} s | {fa/pa:.1f}x | {ld/pa:.1f}x | "
          f"{rss[0]:.0f} / {rss[1]:.0f} / {rss[2]:.0f} MiB |")
    summary[ds] = {"build": (pa, fa, ld), "curves": {}}
print()
print("| data | nprobes | recall@10 partifact | recall@10 FAISS | difference | QPS partifact | QPS FAISS | QPS partifact / FAISS |")
print("|---|---|---|---|---|---|---|---|")
for ds in summary:
    g = [r for r in rows if r["data"] == ds]
    nps = [s["nprobes"] for s in g[0]["pa_search"]]
    cur = {"pa": ([], []), "faiss": ([], [])}
    for i, npb in enumerate(nps):
        pr, fr = med([r["pa_search"][i]["recall"] for r in g]), med([r["faiss_search"][i]["recall"] for r in g])
        pq, fq = med([r["pa_search"][i]["qps"] for r in g]), med([r["faiss_search"][i]["qps"] for r in g])
        cur["pa"][0].append(pr); cur["pa"][1].append(pq)
        cur["faiss"][0].append(fr); cur["faiss"][1].append(fq)
        print(f"| {names[ds]} | {npb} | {pr:.4f} | {fr:.4f} | {pr-fr:+.4f} | {pq:.0f} | {fq:.0f} | {pq/fq:.2f} |")
    summary[ds]["curves"] = cur
    summary[ds]["nprobes"] = nps
print(f"\nmedians of {len(rows)//len(summary)} runs per system")
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    sys.exit(0)
fig, axes = plt.subplots(1, len(summary) + 1, figsize=(5 * (len(summary) + 1), 4))
for ax, ds in zip(axes, summary):
    for key, label, mk in (("pa", "partifact", "o-"), ("faiss", "FAISS IndexIVFPQ", "s--")):
        rec, qps = summary[ds]["curves"][key]
        ax.plot(rec, qps, mk, label=label)
        for r_, q_, n_ in zip(rec, qps, summary[ds]["nprobes"]):
            ax.annotate(str(n_), (r_, q_), fontsize=7, textcoords="offset points", xytext=(3, 3))
    ax.set_yscale("log"); ax.set_xlabel("recall@10"); ax.set_ylabel("QPS (1,000 queries, 2 cores)")
    ax.set_title(names[ds] + "\n(labels: nprobes)", fontsize=9); ax.legend(fontsize=8); ax.grid(alpha=.3)
ax = axes[-1]
import numpy as np
xs = np.arange(len(summary)); w = 0.27
for i, (label, col) in enumerate((("partifact build", 0), ("FAISS train + add", 1), ("LanceDB index build", 2))):
    ax.bar(xs + (i - 1) * w, [summary[d]["build"][col] for d in summary], w, label=label)
ax.set_xticks(xs); ax.set_xticklabels([names[d].split(" ")[0] for d in summary])
ax.set_ylabel("seconds (median)"); ax.set_title("IVF_PQ build time, P=256, M=16", fontsize=9)
ax.legend(fontsize=8); ax.grid(axis="y", alpha=.3)
fig.tight_layout(); fig.savefig(sys.argv[2], dpi=110)
print(f"\nplot: {sys.argv[2]}")
PY
