"""The tables of bench/scale_bench.sh from its results.jsonl: the build at scale against FAISS
(medians, the per-pair range of the ratio, peak RSS), each phase's time, with and without a busy
loop per core, the growth of each phase from ROWS/10 to ROWS rows and from P/16 to P partitions,
and search with the whole index in memory and with a quarter of it.
Usage: python3 scale_report.py RESULTS.jsonl FAISS_HEADER ROWS P"""
import json, statistics as st, sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
faiss_header, ROWS, P = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
med = st.median
builds = [r for r in rows if r["kind"] == "build"]
searches = {r["budget"]: r for r in rows if r["kind"] == "search" and f" {ROWS} {P} " in r["key"] + " "}
CONT = {0: "machine as it is", 1: "one busy loop per core"}

# each side's phases: (name, partifact key(s), FAISS phase key)
PHASES = [("coarse k-means", ["ivf_seconds"], "coarse"), ("PQ training", ["pq_seconds"], "pq"),
          ("assign", ["assign_encode_seconds"], "assign"), ("encode", None, "encode"),
          ("artifact read + write", ["read_seconds", "write_seconds"], None),
          ("finalize", ["finalize_seconds"], None)]


def total(r):
    x = r["result"]
    return x["seconds"] if r["side"] == "partifact" else x["total_seconds"]


def phase(r, name):
    """A run's seconds in phase name (None where that side has no such phase)."""
    _, pk, fk = next(p for p in PHASES if p[0] == name)
    x = r["result"]
    if r["side"] == "partifact":
        return None if pk is None else sum(x[k] for k in pk)
    return None if fk is None else x["phases"][fk]


def select(side, n, p, cont=0):
    return [r for r in builds if (r["side"], r["rows"], r["partitions"], r["contention"]) == (side, n, p, cont)]


def fmt(v):
    return "—" if v is None else f"{v:.2f}"


def phase_table(lead):
    """The head of a table of the lead columns, each phase and the total."""
    cols = lead + [p[0] for p in PHASES] + ["total"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))


def mphase(g, name):
    v = [phase(r, name) for r in g]
    return None if not g or v[0] is None else med(v)


print(f"\nFAISS: {faiss_header}")
print("paired runs (partifact, FAISS, partifact, FAISS, ...), medians; the ratio's range over the "
      "pairs in brackets; FAISS: IndexIVFPQ train (train_q1, train_encoder) + add (assign, "
      "add_core), the same sample (256 rows per partition), iterations (coarse 10, PQ 25) and "
      "threads (2)\n")
print("| data | cores | partifact build | FAISS train + add | FAISS / partifact | peak RSS partifact / FAISS | load at start (partifact / FAISS) |")
print("|---|---|---|---|---|---|---|")
for cont in sorted({r["contention"] for r in builds}):
    for n, p in dict.fromkeys((r["rows"], r["partitions"]) for r in builds if r["contention"] == cont):
        pa, fa = select("partifact", n, p, cont), select("faiss", n, p, cont)
        if not pa:
            continue
        tp = med([total(r) for r in pa])
        line = f"| {n:,} x 128, P={p}, M={pa[0]['result']['sub_vectors']} | {CONT[cont]} | {tp:.2f} s ({len(pa)} runs) | "
        if fa:
            tf = med([total(r) for r in fa])
            ratios = [total(f) / total(a) for a, f in zip(sorted(pa, key=lambda r: r["run"]),
                                                          sorted(fa, key=lambda r: r["run"]))]
            line += (f"{tf:.2f} s | {tf / tp:.2f}x ({min(ratios):.2f}-{max(ratios):.2f}) | "
                     f"{med([r['rss_kib'] for r in pa]) / 1024:.0f} / {med([r['rss_kib'] for r in fa]) / 1024:.0f} MiB | "
                     f"{med([r['load'] for r in pa]):.2f} / {med([r['load'] for r in fa]):.2f} |")
        else:
            line += f"— | — | {med([r['rss_kib'] for r in pa]) / 1024:.0f} MiB / — | {med([r['load'] for r in pa]):.2f} / — |"
        print(line)

print("\nper phase, seconds (medians). partifact: coarse k-means, PQ training, assign + encode in "
      "one pass (in the assign column), the encode stage's reads and artifact writes, finalize. "
      "FAISS: train_q1, train_encoder (with the sample's assignment and residuals), "
      "quantizer.assign, add_core (encode + append).\n")
phase_table(["data", "cores", "side"])
for cont in sorted({r["contention"] for r in builds}):
    for n, p in dict.fromkeys((r["rows"], r["partitions"]) for r in builds if r["contention"] == cont):
        for side in ("partifact", "faiss"):
            g = select(side, n, p, cont)
            if not g:
                continue
            cells = [fmt(mphase(g, name)) for name, *_ in PHASES]
            if side == "partifact":
                cells[2] += " (with encode)"
            lead = f"| {n:,} x 128, P={p} | {CONT[cont]}" if side == "partifact" else "| |"
            print(f"{lead} | {side} | " + " | ".join(cells) + f" | {med([total(r) for r in g]):.2f} |")

growth = [("rows", (ROWS // 10, P), (ROWS, P)), ("partitions", (ROWS // 10, P // 16), (ROWS // 10, P))]
if any(select("partifact", *a) and select("partifact", *b) for _, a, b in growth):
    print("\n**Growth** of each phase's time (medians, the machine as it is): from the smaller to the "
          "larger shape, seconds and the factor (rows x10: the work of assign and encode grows 10x, "
          "the training sample 256 rows per partition stays; partitions x16: coarse k-means' and "
          "assignment's work grow 16x, the sample 16x where there are rows for it).\n")
    phase_table(["growth", "side"])
    for what, a, b in growth:
        for side in ("partifact", "faiss"):
            ga, gb = select(side, *a), select(side, *b)
            if not ga or not gb:
                continue
            cells = []
            for name, *_ in PHASES:
                va, vb = mphase(ga, name), mphase(gb, name)
                cells.append("—" if va is None else f"{va:.2f} → {vb:.2f} ({vb / va:.1f}x)" if va > 0 else f"{va:.2f} → {vb:.2f}")
            ta, tb = med([total(r) for r in ga]), med([total(r) for r in gb])
            lead = f"| {a[0]:,} → {b[0]:,} rows, P={a[1]}" if what == "rows" and a[1] == b[1] else \
                f"| P={a[1]} → {b[1]}, {a[0]:,} rows"
            print(f"{lead if side == 'partifact' else '|'} | {side} | " + " | ".join(cells) +
                  f" | {ta:.2f} → {tb:.2f} ({tb / ta:.1f}x) |")

# the fixed cost's allowance for the Lance reader's buffers and the allocator's slack around
# evicted partitions, as tests/cli/search_memory.sh states it (measured there: 1 to 2 MB)
SLACK = 3 << 20
if searches:
    s0 = next(iter(searches.values()))
    ib = s0["index_bytes"]
    fixed = (searches["least"]["rss_kib"] * 1024 - searches["least"]["budget_bytes"] + SLACK
             if "least" in searches else None)
    print(f"\n**Search** over the {ROWS:,}-row index (P={P}, {ib / 2**20:.0f} MiB on disk): "
          f"{s0['result']['queries']:,} queries in one batch, nprobes {s0['result']['nprobes']}, "
          "2 threads, median of 3 passes; recall@10 against exact ground truth. A budget holds the "
          "centroids, codebook and partition table and the cache of partitions; the fixed cost is "
          "what lies outside it: the peak RSS with the least budget the index accepts (index-info's "
          "memory_min_bytes) less that budget (binary, libraries, queries, ground truth, "
          "per-thread tables and heaps), plus 3 MiB for the Lance reader's buffers and the "
          "allocator's slack around evicted partitions (tests/cli/search_memory.sh's allowance)"
          f"{'' if fixed is None else f': {fixed / 2**20:.1f} MiB'}.\n")
    print("| index held | budget | peak RSS | budget + fixed cost | within | QPS | recall@10 |")
    print("|---|---|---|---|---|---|---|")
    for b, label in (("all", "all of it in memory"), ("quarter", "--memory a quarter of the index"),
                     ("least", "--memory the least budget (the fixed cost)")):
        if b not in searches:
            continue
        s = searches[b]
        rss = s["rss_kib"] * 1024
        if b == "all" or fixed is None:
            lim, within = "—", "—"
        else:
            lim = f"{(s['budget_bytes'] + fixed) / 2**20:.1f} MiB"
            within = "yes" if rss <= s["budget_bytes"] + fixed else f"no (+{(rss - s['budget_bytes'] - fixed) / 2**20:.1f} MiB)"
        bud = "—" if b == "all" else f"{s['budget_bytes'] / 2**20:.1f} MiB"
        print(f"| {label} | {bud} | {rss / 2**20:.1f} MiB | {lim} | {within} | "
              f"{s['result']['qps']:,.0f} | {s['result'].get('recall', float('nan')):.3f} |")
