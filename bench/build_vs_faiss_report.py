"""The tables of bench/build_vs_faiss.sh from its results.jsonl: build vs FAISS (medians, the
per-run range of the ratio, PQ error), each phase's time, and the limit (each phase's FLOPs
against the measured sgemm rate; search bytes against copy bandwidth).
Usage: python3 build_vs_faiss_report.py RESULTS.jsonl FAISS_HEADER DRAM_GBS L3_GBS DRAM2 L3_2"""
import json, statistics as st, sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
faiss_header = sys.argv[2]
bw = {"dram": st.median([float(sys.argv[3]), float(sys.argv[5])]),
      "l3": st.median([float(sys.argv[4]), float(sys.argv[6])])}
names = {"gen": "generated 1,000,000 x 128", "fashion": "Fashion-MNIST 60,000 x 784",
         "gen-loaded": "generated 1,000,000 x 128 (rerun, load 7-10)"}
med = st.median
PQ_SAMPLE = 65536  # PA_PQ_SAMPLE_ROWS: the PQ codebooks' sample


def groups():
    for key in dict.fromkeys((r["data"], r["variant"]) for r in rows):
        yield key, [r for r in rows if (r["data"], r["variant"]) == key]


def label(ds, variant, g):
    p = g[0]["pa"]
    fs = {"4": "fs", "4r": "fsr"}.get(variant)
    return (f"{names.get(ds, ds)}, P={p['partitions']}, M={p['sub_vectors']}, {g[0]['bits']}-bit"
            + (f" (FAISS IVF{p['partitions']},PQ{p['sub_vectors']}x4{fs})" if fs else ""))


print(f"\nFAISS: {faiss_header}")
print(f"medians of {len(rows) // max(1, len(dict(groups())))} paired runs (partifact, FAISS, "
      "partifact, FAISS, ...); the ratio's range over the pairs in brackets\n")
print("| data | partifact build | FAISS train + add | FAISS / partifact | PQ MSE partifact | PQ MSE FAISS | partifact vs FAISS | peak RSS partifact / FAISS |")
print("|---|---|---|---|---|---|---|---|")
for (ds, bits), g in groups():
    pa, fa = med([r["pa"]["seconds"] for r in g]), med([r["faiss"]["total_seconds"] for r in g])
    ratios = [r["faiss"]["total_seconds"] / r["pa"]["seconds"] for r in g]
    pm, fm = med([r["pa_mse"] for r in g]), med([r["faiss"]["pq_mse"] for r in g])
    print(f"| {label(ds, bits, g)} | {pa:.2f} s | {fa:.2f} s | {fa / pa:.2f}x "
          f"({min(ratios):.2f}-{max(ratios):.2f}) | {pm:.5g} | {fm:.5g} | {(pm / fm - 1) * 100:+.2f}% | "
          f"{med([r['pa_rss_kib'] for r in g]) / 1024:.0f} / {med([r['faiss_rss_kib'] for r in g]) / 1024:.0f} MiB |")

print("\nper phase, seconds (medians). partifact: coarse k-means and PQ training (ivf_seconds, "
      "pq_seconds), assign + encode as one pass (assign_encode_seconds), the encode stage's reads "
      "and artifact writes, finalize. FAISS: train_q1, train_encoder (with the sample's assignment "
      "and residuals where it encodes residuals), quantizer.assign, add_core (encode + append); fast-scan's add assigns and "
      "encodes in one call.\n")
print("| data | side | coarse k-means | PQ training | assign | encode | artifact read + write | finalize | total |")
print("|---|---|---|---|---|---|---|---|---|")
f = lambda v: "—" if v is None else f"{v:.2f}"
for (ds, bits), g in groups():
    P = lambda k: med([r["pa"][k] for r in g])
    print(f"| {label(ds, bits, g)} | partifact | {P('ivf_seconds'):.2f} | {P('pq_seconds'):.2f} | "
          f"{P('assign_encode_seconds'):.2f} (with encode) | (with assign) | "
          f"{med([r['pa']['read_seconds'] + r['pa']['write_seconds'] for r in g]):.2f} | "
          f"{P('finalize_seconds'):.2f} | {P('seconds'):.2f} |")
    F = lambda k: None if g[0]["faiss"]["phases"][k] is None else med([r["faiss"]["phases"][k] for r in g])
    enc = "(with assign)" if F("assign") is None else f(F("encode"))
    asg = f"{F('add'):.2f} (add)" if F("assign") is None else f(F("assign"))
    print(f"| | FAISS | {F('coarse'):.2f} | {F('pq'):.2f} | {asg} | {enc} | — | — | "
          f"{med([r['faiss']['total_seconds'] for r in g]):.2f} |")


def flops(r, side):
    """Each phase's floating-point operations (multiply + add = 2): the distance products of
    every k-means iteration and of the assignment and encoding (norms, residuals and centroid
    updates are O(n d), under 1% of them, and left out). partifact's k-means: those it did,
    the full assignment's times the work share its --json reports (grouped bounds leave out
    centroids that cannot be a row's nearest, for the same model)."""
    p = r["pa"]
    n, d, P, M = p["rows"], p["dim"], p["partitions"], p["sub_vectors"]
    K = 1 << r["bits"]
    wc = wq = 1.0
    if side == "pa":
        ns, it, itq = p["sample_rows"], p["ivf_iters"], p["pq_iters"]
        wc, wq = p.get("ivf_work_share", 1.0), p.get("pq_work_share", 1.0)
    else:
        ns, it, itq = r["faiss"]["phases"]["sample_rows"], 10, 25
    return {"coarse": 2 * ns * P * d * it * wc, "pq": 2 * min(ns, PQ_SAMPLE) * K * d * itq * wq,
            "assign": 2 * n * P * d, "encode": 2 * n * K * d}


print("\n**The limit.** FLOPs per phase: coarse k-means 2·s·P·d·I, PQ training 2·s_pq·K·d·I_pq, "
      "assign 2·n·P·d, encode 2·n·K·d (s: training sample rows, s_pq = min(s, 65,536), I and "
      "I_pq: the iterations run (partifact reports them; FAISS runs 10 and 25), K = 2^bits; a "
      "multiply-add counts 2; partifact's k-means rows count the work it did: the formula times "
      "the ivf_work_share / pq_work_share its --json reports, below 1 where grouped bounds left "
      "out centroids that could not be a row's nearest, for the same model). Peak: the sgemm rate `partifact --version --json` measured "
      "before each run (1024^3, 2 threads; median). Finalize does no floating-point work: its "
      "bytes (artifact read + index written) are set against the DRAM copy bandwidth. "
      "'at peak' is the time the phase would take at the sgemm rate; 'gap' = measured - at peak."
      + (" Where the CPU has AMX, the last columns set each phase against the AMX nearest-centroid "
         "kernel's rate (`--version --json`'s amx.gflops: 65,536 x 256 x 128, fp32-equivalent "
         "FLOPs; median), the second peak: the coarse k-means and the assignment run on it."
         if any(r.get("amx_gflops") for r in rows) else "") + "\n")
amx_col = any(r.get("amx_gflops") for r in rows)
print("| data | peak GFLOP/s | phase | GFLOP | partifact s | GFLOP/s | % of peak | at peak s | gap s | FAISS s | FAISS GFLOP/s | FAISS % of peak |"
      + (" AMX peak GFLOP/s | % of AMX peak | at AMX peak s |" if amx_col else ""))
print("|---|---|---|---|---|---|---|---|---|---|---|---|" + ("---|---|---|" if amx_col else ""))
gaps = []
for (ds, bits), g in groups():
    peak = med([r["sgemm_gflops"] for r in g])
    amx = [r["amx_gflops"] for r in g if r.get("amx_gflops")]
    apeak = med(amx) if amx else None
    acols = lambda gf, rate, first: ((f" {apeak:.1f} |" if first else " |") + f" {rate / apeak * 100:.0f}% | {gf / apeak:.2f} |"
                                     if apeak else (" — | — | — |" if amx_col else ""))
    fl = {k: med([flops(r, "pa")[k] for r in g]) for k in ("coarse", "pq", "assign", "encode")}
    ffl = {k: med([flops(r, "faiss")[k] for r in g]) for k in ("coarse", "pq", "assign", "encode")}
    ptime = {"coarse": med([r["pa"]["ivf_seconds"] for r in g]),
             "pq": med([r["pa"]["pq_seconds"] for r in g]),
             "assign + encode": med([r["pa"]["assign_encode_seconds"] for r in g])}
    ph = lambda k: None if g[0]["faiss"]["phases"][k] is None else med([r["faiss"]["phases"][k] for r in g])
    ftime = {"coarse": ph("coarse"), "pq": ph("pq"),
             "assign + encode": ph("add") if ph("assign") is None else ph("assign") + ph("encode")}
    fl["assign + encode"] = fl["assign"] + fl["encode"]
    ffl["assign + encode"] = ffl["assign"] + ffl["encode"]
    first = True
    for k, nm in (("coarse", "coarse k-means"), ("pq", "PQ training"), ("assign + encode", "assign + encode")):
        gf = fl[k] / 1e9
        at = gf / peak
        rate = gf / ptime[k] if ptime[k] > 0 else float("inf")
        frate = ffl[k] / 1e9 / ftime[k]
        extra = ""
        if k == "assign + encode":
            extra = f" (assign {fl['assign'] / 1e9:.1f} + encode {fl['encode'] / 1e9:.1f})"
        lead = f"| {label(ds, bits, g)} | {peak:.1f}" if first else "| |"
        print(f"{lead} | {nm}{extra} | {gf:.1f} | {ptime[k]:.2f} | {rate:.1f} | {rate / peak * 100:.0f}% | "
              f"{at:.2f} | {ptime[k] - at:.2f} | {ftime[k]:.2f} | {frate:.1f} | {frate / peak * 100:.0f}% |"
              + acols(gf, rate, first))
        gaps.append((ptime[k] - at, ptime[k] / at if at else 0, label(ds, bits, g), nm))
        first = False
    fb = med([(r["pa"]["artifact_bytes"] + r["pa"]["index_bytes"]) for r in g])
    fs = med([r["pa"]["finalize_seconds"] for r in g])
    io = med([r["pa"]["read_seconds"] + r["pa"]["write_seconds"] for r in g])
    dash = " — | — | — |" if amx_col else ""
    print(f"| | | artifact read + write (encode stage) | 0 | {io:.2f} | — | — | — | {io:.2f} | — | — | — |" + dash)
    print(f"| | | finalize: {fb / 1e6:.0f} MB moved, {fb / 1e9 / fs if fs else 0:.2f} GB/s "
          f"({fb / 1e9 / fs / bw['dram'] * 100 if fs else 0:.0f}% of DRAM copy) | 0 | {fs:.2f} | — | — | "
          f"{fb / 1e9 / bw['dram']:.3f} | {fs - fb / 1e9 / bw['dram']:.2f} | — | — | — |" + dash)
    tot = sum(fl[k] for k in ("coarse", "pq", "assign", "encode")) / 1e9
    tp = med([r["pa"]["seconds"] for r in g])
    tf = med([r["faiss"]["total_seconds"] for r in g])
    ftot = sum(ffl[k] for k in ("coarse", "pq", "assign", "encode")) / 1e9
    print(f"| | | whole build | {tot:.1f} | {tp:.2f} | {tot / tp:.1f} | {tot / tp / peak * 100:.0f}% | "
          f"{tot / peak:.2f} | {tp - tot / peak:.2f} | {tf:.2f} | {ftot / tf:.1f} | {ftot / tf / peak * 100:.0f}% |"
          + (acols(tot, tot / tp, False) if apeak else dash))
if gaps:
    g1 = max(gaps)
    g2 = max(gaps, key=lambda t: t[1])
    print(f"\nlargest gap in seconds: {g1[3]} on {g1[2]} ({g1[0]:.2f} s above the time at peak); "
          f"largest as a ratio: {g2[3]} on {g2[2]} ({g2[1]:.1f}x the time at peak)")

print(f"\n**Search bytes against bandwidth.** copy bandwidth (bench/stream.c, 2 threads, read + "
      f"written bytes; median of before and after): DRAM (2 x 1 GiB) {bw['dram']:.1f} GB/s, "
      f"L3-resident (2 x 32 MiB) {bw['l3']:.1f} GB/s. Bytes scanned per query: the PQ codes of "
      "the probed partitions (codes_scanned / queries x code bytes; row ids are read only for "
      "candidates, the tables and centroids are per-query work in cache).\n")
print("| data | nprobes | queries | codes per query | bytes per query | QPS | GB/s scanned | % of DRAM copy | % of L3 copy |")
print("|---|---|---|---|---|---|---|---|---|")
for (ds, bits), g in groups():
    s = [r["search"] for r in g if r["search"]]
    if not s:
        continue
    s = s[-1]
    p = g[0]["pa"]
    cb = p["sub_vectors"] * g[0]["bits"] / 8
    cpq = s["codes_scanned"] / s["queries"]
    gbs = cpq * cb * s["qps"] / 1e9
    print(f"| {label(ds, bits, g)} | {s['nprobes']} | {s['queries']} | {cpq:,.0f} | {cpq * cb:,.0f} | "
          f"{s['qps']:,.0f} | {gbs:.2f} | {gbs / bw['dram'] * 100:.0f}% | {gbs / bw['l3'] * 100:.0f}% |")
