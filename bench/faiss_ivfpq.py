"""FAISS side of the backend benchmark: IndexIVFPQ train + add on the same data and sample size
as partifact, and the PQ mean squared reconstruction error on residuals.
Usage: /usr/bin/python3 faiss_ivfpq.py BASE.fvecs NLIST M SEED  -> one JSON line"""
import json, sys
from faiss_common import read_vecs, build_ivfpq

x = read_vecs(sys.argv[1])
nlist, m, seed = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
n, d = x.shape
index, quantizer, train_s, add_s = build_ivfpq(x, nlist, m, seed)
assign = quantizer.search(x, 1)[1].ravel()
res = x - quantizer.reconstruct_n(0, nlist)[assign]
mse = float(((res - index.pq.decode(index.pq.compute_codes(res))) ** 2).sum(1).mean())
print(json.dumps({"train_seconds": train_s, "add_seconds": add_s, "total_seconds": train_s + add_s,
                  "pq_mse": mse, "rows": n, "dim": d}))
