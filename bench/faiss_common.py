"""Shared by the FAISS sides of the benchmarks: reading .fvecs/.ivecs, and building an
IndexIVFPQ the way partifact trains (the same sample size), with the build timed."""
import time
import numpy as np
import faiss


def read_vecs(path, dtype=np.float32):
    a = np.fromfile(path, dtype=np.int32)
    d = int(a[0])
    return np.ascontiguousarray(a.reshape(-1, d + 1)[:, 1:].view(dtype))


def build_ivfpq(x, nlist, m, seed):
    """IndexIVFPQ (8-bit codes) trained on a seeded sample of the size partifact uses (256 rows
    per partition, at least 65,536), then every row added, on 2 threads.
    Returns (index, quantizer, train_seconds, add_seconds)."""
    n, d = x.shape
    faiss.omp_set_num_threads(2)
    rs = np.random.RandomState(seed)
    sample = x[rs.choice(n, min(n, max(256 * nlist, 65536)), replace=False)]
    t0 = time.time()
    quantizer = faiss.IndexFlatL2(d)
    index = faiss.IndexIVFPQ(quantizer, d, nlist, m, 8)
    index.train(sample)
    t1 = time.time()
    index.add(x)
    t2 = time.time()
    return index, quantizer, t1 - t0, t2 - t1
