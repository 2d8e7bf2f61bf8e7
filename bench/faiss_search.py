"""FAISS side of the index benchmark: IndexIVFPQ train + add (timed), then for each nprobe a
search of the query batch on both cores: recall@k against the ground truth and QPS.
Usage: /usr/bin/python3 faiss_search.py BASE.fvecs QUERIES.fvecs GT.ivecs NLIST M K NPROBES SEED
  NPROBES is a comma-separated list.  Prints one JSON object."""
import json, sys, time
import numpy as np
import faiss


def read_vecs(path, dtype):
    a = np.fromfile(path, dtype=np.int32)
    d = int(a[0])
    return np.ascontiguousarray(a.reshape(-1, d + 1)[:, 1:].view(dtype))


x = read_vecs(sys.argv[1], np.float32)
q = read_vecs(sys.argv[2], np.float32)
gt = read_vecs(sys.argv[3], np.int32)
nlist, m, k = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
nprobes = [int(v) for v in sys.argv[7].split(',')]
seed = int(sys.argv[8])
n, d = x.shape
faiss.omp_set_num_threads(2)
# the same training sample size partifact uses: 256 rows per partition, at least 65,536
rs = np.random.RandomState(seed)
sample = x[rs.choice(n, min(n, max(256 * nlist, 65536)), replace=False)]
t0 = time.time()
quantizer = faiss.IndexFlatL2(d)
index = faiss.IndexIVFPQ(quantizer, d, nlist, m, 8)
index.train(sample)
index.add(x)
build = time.time() - t0

out = {"build_seconds": build, "rows": n, "dim": d, "queries": len(q), "k": k, "search": []}
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
