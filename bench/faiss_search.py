"""FAISS side of the index benchmark: IndexIVFPQ train + add (timed), then for each nprobe a
search of the query batch on both cores: recall@k against the ground truth and QPS.
Usage: /usr/bin/python3 faiss_search.py BASE.fvecs QUERIES.fvecs GT.ivecs NLIST M K NPROBES SEED
  NPROBES is a comma-separated list.  Prints one JSON object.
  The FAISS measured: see faiss_common.py (FAISS_PYTHONPATH; refused when generic unless
  FAISS_CORRECTNESS_ONLY=1)."""
import json, sys, time
import numpy as np
from faiss_common import check_peer, read_vecs, build_ivfpq

peer = check_peer()
x = read_vecs(sys.argv[1], np.float32)
q = read_vecs(sys.argv[2], np.float32)
gt = read_vecs(sys.argv[3], np.int32)
nlist, m, k = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
nprobes = [int(v) for v in sys.argv[7].split(',')]
seed = int(sys.argv[8])
n, d = x.shape
index, _, train_s, add_s = build_ivfpq(x, nlist, m, seed)
build = train_s + add_s

out = {"build_seconds": build, "rows": n, "dim": d, "queries": len(q), "k": k, "search": [],
       "faiss": peer}
for npb in nprobes:
    index.nprobe = npb
    times = []
    for _ in range(3):  # median of 3 passes over the whole batch
        t = time.time()
        _, ids = index.search(q, k)
        dt = time.time() - t
        times.append(dt)
    hits = sum(len(set(ids[i]) & set(gt[i, :k])) for i in range(len(q)))
    out["search"].append({"nprobes": npb, "recall": hits / (len(q) * k), "qps": len(q) / sorted(times)[1]})
print(json.dumps(out))
