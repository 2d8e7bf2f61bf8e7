"""FAISS side of bench/search_vs_faiss.sh: builds IndexIVFPQ (8-bit, M8 sub-vectors) and the
fast-scan IndexIVFPQFastScan (4-bit, M4 sub-vectors: the factory's IVF{P},PQ{M4}x4fs on the
vectors and IVF{P},PQ{M4}x4fsr on residuals) as bench/faiss_common.build_ivf trains them (the
sample and iterations partifact uses), then for every configuration and nprobe (and k_factor
of IndexRefineFlat, which re-ranks by exact distance to the original vectors):
  - batch: all queries in one index.search on THREADS OpenMP threads, RUNS passes after one
    warm-up pass: QPS of each pass, recall@K against the ground truth;
  - batch 1: the first LAT_QUERIES queries each alone, index.search(q[i:i+1]) on one thread,
    RUNS runs: p50 and p99 of each run (microseconds, perf_counter around the call).
The Python-call overhead of batch 1 is measured the same way on an IndexFlatL2 holding one
vector ("python_overhead_us": p50 and p99), so a reader can subtract it.
Usage: /usr/bin/python3 faiss_search_curve.py BASE QUERIES GT NLIST M8 M4 K SEED NPROBES KFACTORS
         RUNS LAT_QUERIES THREADS CONFIGS
  NPROBES, KFACTORS: comma-separated; CONFIGS: comma-separated of ivfpq8, x4fs, x4fsr.
Prints one JSON object per line: first {"faiss": header}, then one per point."""
import json, sys, time
import numpy as np
from faiss_common import check_peer, read_vecs, build_ivf
import faiss

peer = check_peer()
base, qpath, gtpath = sys.argv[1:4]
nlist, m8, m4, k, seed = (int(v) for v in sys.argv[4:9])
nprobes = [int(v) for v in sys.argv[9].split(",")]
kfactors = [int(v) for v in sys.argv[10].split(",") if v]
runs, lat_q, threads = int(sys.argv[11]), int(sys.argv[12]), int(sys.argv[13])
configs = sys.argv[14].split(",")
x = read_vecs(base)
q = read_vecs(qpath)
gt = read_vecs(gtpath, np.int32)[:, :k]
singles = [np.ascontiguousarray(q[i:i + 1]) for i in range(min(lat_q, len(q)))]


def recall(ids):
    return sum(len(set(ids[i]) & set(gt[i])) for i in range(len(q))) / (len(q) * k)


def batch1(index):
    """p50 and p99 (us) of each of `runs` runs over the single queries, one thread."""
    faiss.omp_set_num_threads(1)
    p50, p99 = [], []
    for _ in range(runs):
        lat = []
        for s in singles:
            t = time.perf_counter()
            index.search(s, k)
            lat.append((time.perf_counter() - t) * 1e6)
        lat.sort()
        p50.append(lat[len(lat) // 2]), p99.append(lat[len(lat) * 99 // 100])
    faiss.omp_set_num_threads(threads)
    return p50, p99


def point(index, name, npb, kf):
    faiss.omp_set_num_threads(threads)
    index.search(q, k)  # warm-up
    secs = []
    for _ in range(runs):
        t = time.perf_counter()
        _, ids = index.search(q, k)
        secs.append(time.perf_counter() - t)
    p50, p99 = batch1(index)
    print(json.dumps({"side": "faiss", "config": name, "nprobes": npb, "k_factor": kf,
                      "recall": recall(ids), "qps_runs": [len(q) / s for s in secs],
                      "p50_us_runs": p50, "p99_us_runs": p99}), flush=True)


# the Python-call overhead of batch 1: a search that does next to nothing
flat = faiss.IndexFlatL2(x.shape[1])
flat.add(x[:1])
o50, o99 = batch1(flat)
print(json.dumps({"faiss": peer, "python_overhead_us": {"p50_runs": o50, "p99_runs": o99},
                  "threads": threads}), flush=True)
del flat

for cfg in configs:
    if cfg == "ivfpq8":
        index, _ = build_ivf(x, nlist, m8, 8, seed, threads=threads)
        name = f"IVF{nlist},PQ{m8}"
    else:
        index, _ = build_ivf(x, nlist, m4, 4, seed, fastscan=True, residual=(cfg == "x4fsr"),
                             threads=threads)
        name = f"IVF{nlist},PQ{m4}{cfg}"
    for npb in nprobes:
        index.nprobe = min(npb, nlist)
        point(index, name, npb, 0)
    if cfg != "ivfpq8":
        refine = faiss.IndexRefineFlat(index, faiss.swig_ptr(x))
        for kf in kfactors:
            refine.k_factor = kf
            for npb in nprobes:
                index.nprobe = min(npb, nlist)
                point(refine, name + ",RFlat", npb, kf)
        del refine
    del index
