"""Tables and plot of bench/search_vs_faiss.sh. Markdown for BENCHMARKS.md on stdout:
  - per data set, every point (configuration, nprobes, refine factor: recall@10, QPS of the
    batch, batch-1 p50 / p99);
  - the must-show: for every FAISS point, partifact's best configuration at that recall or above
    (the most QPS among partifact's points whose recall is at least FAISS's), the ratio, and
    the same for batch-1 p50 (the least p50 at that recall or above);
and the plot: per data set, recall@10 on x, QPS on a log y, one line per configuration.
Usage: /usr/bin/python3 search_vs_faiss_report.py RESULTS.jsonl FAISS_HEADER LOAD.txt PLOT.png
       (PLOT "-": no plot)"""
import json, sys
from collections import OrderedDict

results, faiss_header, load, plot = sys.argv[1:5]
rows = [json.loads(l) for l in open(results) if l.strip()]
headers = {r["data"]: r for r in rows if r["side"] == "faiss-header"}
points = [r for r in rows if r["side"] in ("partifact", "faiss")]
names = {"gen": "1M x 128 (gen-vectors)", "fashion": "Fashion-MNIST 60k x 784",
         "tiny": "20k x 32 (smoke test)"}


def label(r):
    if r["refine"] > 1:
        return f"{r['config']} R={r['refine']}" if r["side"] == "partifact" else \
            f"{r['config']} k_factor={r['refine']}"
    return r["config"]


def fmt_qps(v):
    return f"{v:,.0f}"


print(f"FAISS measured: {faiss_header}  ")
for line in open(load):
    print(line.strip() + "  ")
print()
datasets = list(OrderedDict.fromkeys(r["data"] for r in points))
verdict = []
for ds in datasets:
    pts = [r for r in points if r["data"] == ds]
    h = headers.get(ds)
    print(f"### Search {names.get(ds, ds)}: recall@10 against QPS (10,000 queries, one batch, "
          "2 threads) and batch-1 latency (1 thread)\n")
    if h:
        print(f"FAISS's batch-1 figures are timed from Python around `index.search(q[i:i+1])`; the "
              f"Python call alone (an IndexFlatL2 of one vector) takes p50 "
              f"{h['python_overhead_p50_us']:.1f} us, p99 {h['python_overhead_p99_us']:.1f} us.\n")
    print("| side | configuration | nprobes | recall@10 | QPS | batch-1 p50 us | p99 us |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in pts:
        print(f"| {r['side']} | {label(r)} | {r['nprobes']} | {r['recall']:.4f} | "
              f"{fmt_qps(r['qps'])} | {r['p50_us']:.1f} | {r['p99_us']:.1f} |")
    print()
    pa = [r for r in pts if r["side"] == "partifact"]
    fa = [r for r in pts if r["side"] == "faiss"]
    if not pa or not fa:
        continue
    print(f"**At every FAISS point, partifact's best at that recall or above** ({names.get(ds, ds)}):"
          "\n")
    print("| FAISS configuration | nprobes | recall@10 | FAISS QPS | partifact's best (QPS) | "
          "QPS ratio | FAISS p50 us | partifact's best p50 us | p50 ratio |")
    print("|---|---:|---:|---:|---|---:|---:|---|---:|")
    for f in sorted(fa, key=lambda r: (label(r), r["nprobes"])):
        above = [p for p in pa if p["recall"] >= f["recall"]]
        if not above:
            print(f"| {label(f)} | {f['nprobes']} | {f['recall']:.4f} | {fmt_qps(f['qps'])} | "
                  "none reaches this recall | - | "
                  f"{f['p50_us']:.1f} | - | - |")
            verdict.append((ds, label(f), f["nprobes"], None))
            continue
        bq = max(above, key=lambda p: p["qps"])
        bl = min(above, key=lambda p: p["p50_us"])
        ratio = bq["qps"] / f["qps"]
        verdict.append((ds, label(f), f["nprobes"], ratio))
        print(f"| {label(f)} | {f['nprobes']} | {f['recall']:.4f} | {fmt_qps(f['qps'])} | "
              f"{label(bq)}, nprobes {bq['nprobes']}: {fmt_qps(bq['qps'])} (recall "
              f"{bq['recall']:.4f}) | {ratio:.2f}x | {f['p50_us']:.1f} | {label(bl)}, nprobes "
              f"{bl['nprobes']}: {bl['p50_us']:.1f} | {f['p50_us'] / bl['p50_us']:.2f}x |")
    print()
lose = [v for v in verdict if v[3] is None or v[3] < 1]
if verdict:
    print(f"Must-show (partifact's best >= FAISS's QPS at every FAISS recall level): "
          f"{'met' if not lose else 'NOT met'}: partifact at least level at "
          f"{len(verdict) - len(lose)} of {len(verdict)} FAISS points" + ("" if not lose else "; behind at: " + "; ".join(
              f"{d} {c} nprobes {n} ({'no partifact point reaches its recall' if r is None else f'{r:.2f}x'})"
              for d, c, n, r in lose)))

if plot != "-" and datasets:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(datasets), figsize=(7 * len(datasets), 5.5), squeeze=False)
    for ax, ds in zip(axes[0], datasets):
        lines = OrderedDict()
        for r in points:
            if r["data"] == ds:
                lines.setdefault((r["side"], label(r)), []).append(r)
        for (side, name), rs in lines.items():
            rs = sorted(rs, key=lambda r: r["nprobes"])
            ax.plot([r["recall"] for r in rs], [r["qps"] for r in rs],
                    marker="o" if side == "partifact" else "s",
                    linestyle="-" if side == "partifact" else "--", markersize=3,
                    label=name if side == "partifact" else f"FAISS {name}")
        ax.set_yscale("log")
        ax.set_xlabel("recall@10")
        ax.set_ylabel("queries per second (one batch, 2 threads)")
        ax.set_title(f"{names.get(ds, ds)}: nprobes swept")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=6, loc="lower left")
    fig.suptitle("partifact vs " + faiss_header.split(",")[0] + " (built for the CPU)", fontsize=9)
    fig.tight_layout()
    fig.savefig(plot, dpi=110)
    print(f"\nplot: {plot}")
