"""FAISS side of the backend benchmark: IndexIVFPQ train + add on the same data and sample size
as partifact, and the PQ mean squared reconstruction error on residuals.
Usage: /usr/bin/python3 faiss_ivfpq.py BASE.fvecs NLIST M SEED  -> one JSON line"""
import json, sys, time
import numpy as np
import faiss

def read_fvecs(path):
    a = np.fromfile(path, dtype=np.int32)
    d = int(a[0])
    return a.reshape(-1, d + 1)[:, 1:].view(np.float32)

x = np.ascontiguousarray(read_fvecs(sys.argv[1]))
nlist, m, seed = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
n, d = x.shape
faiss.omp_set_num_threads(2)
# the same training sample size partifact uses: 256 rows per partition, at least 65,536
rs = np.random.RandomState(seed)
sample = x[rs.choice(n, min(n, max(256 * nlist, 65536)), replace=False)]
t0 = time.time()
quantizer = faiss.IndexFlatL2(d)
index = faiss.IndexIVFPQ(quantizer, d, nlist, m, 8)
index.train(sample)
t1 = time.time()
index.add(x)
t2 = time.time()
assign = quantizer.search(x, 1)[1].ravel()
res = x - quantizer.reconstruct_n(0, nlist)[assign]
mse = float(((res - index.pq.decode(index.pq.compute_codes(res))) ** 2).sum(1).mean())
print(json.dumps({"train_seconds": t1 - t0, "add_seconds": t2 - t1, "total_seconds": t2 - t0,
                  "pq_mse": mse, "rows": n, "dim": d}))
