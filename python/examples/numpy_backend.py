"""An external IVF_PQ backend in numpy: trains and encodes, and hands its partition ids and PQ
codes to partifact through ArtifactWriter; partifact finalizes and searches the index.

    python3 numpy_backend.py BASE.npy OUT_DIR [--partitions 16] [--sub-vectors 8]

writes OUT_DIR/model.lance, OUT_DIR/artifact and OUT_DIR/index and prints recall@10 of the
index against exact ground truth on the first 100 rows. The same functions (train, encode)
serve any array library: replace numpy by torch or cupy and hand the results over as numpy
arrays (uint32 part ids, uint8 codes).

The layout partifact expects: centroids float32 (partitions, dim); codebook float32
(sub_vectors, 256, dim / sub_vectors); for l2 a row's code is the PQ code of its residual to
its centroid, sub-space m being columns [m * dim / M, (m + 1) * dim / M).
"""
import argparse
import os
import sys

import numpy as np

import partifact


def _nearest(x, c):
    """Index of the nearest row of c for each row of x (squared L2, float64, ties to the
    smaller index)."""
    x64, c64 = x.astype(np.float64), c.astype(np.float64)
    d = (x64 * x64).sum(1)[:, None] - 2.0 * x64 @ c64.T + (c64 * c64).sum(1)[None, :]
    return d.argmin(1)


def kmeans(x, k, iters, rng):
    c = x[rng.choice(len(x), k, replace=False)].copy()
    for _ in range(iters):
        a = _nearest(x, c)
        for j in range(k):
            members = x[a == j]
            c[j] = members.mean(0) if len(members) else x[rng.integers(len(x))]
    return c.astype(np.float32)


def train(x, partitions, sub_vectors, seed=0, iters=10):
    """Coarse k-means, then one 256-entry k-means per sub-space on the residuals."""
    rng = np.random.default_rng(seed)
    centroids = kmeans(x, partitions, iters, rng)
    r = x - centroids[_nearest(x, centroids)]
    sub = x.shape[1] // sub_vectors
    codebook = np.stack([kmeans(np.ascontiguousarray(r[:, m * sub:(m + 1) * sub]), 256, iters,
                                rng) for m in range(sub_vectors)])
    return centroids, codebook


def encode(x, centroids, codebook):
    """(part_ids uint32, codes uint8 (n, sub_vectors)) for the rows of x."""
    part_ids = _nearest(x, centroids).astype(np.uint32)
    r = x - centroids[part_ids]  # float32, as partifact computes the residual
    M, _, sub = codebook.shape
    codes = np.empty((len(x), M), dtype=np.uint8)
    for m in range(M):
        codes[:, m] = _nearest(r[:, m * sub:(m + 1) * sub], codebook[m])
    return part_ids, codes


def write_artifact(x, model, path, batch=10000):
    """Encodes x in batches and streams them into an artifact (row ids: row ordinals)."""
    centroids, codebook = model.centroids, model.codebook
    with partifact.ArtifactWriter(path, model) as w:
        for s in range(0, len(x), batch):
            part_ids, codes = encode(x[s:s + batch], centroids, codebook)
            w.append(np.arange(s, s + len(part_ids), dtype=np.uint64), part_ids, codes)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("base")
    ap.add_argument("out")
    ap.add_argument("--partitions", type=int, default=16)
    ap.add_argument("--sub-vectors", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    x = np.load(a.base)
    if x.dtype != np.float32:
        x = x.astype(np.float32)
    os.makedirs(a.out, exist_ok=True)
    centroids, codebook = train(x, a.partitions, a.sub_vectors, a.seed)
    model = partifact.Model.from_arrays(centroids, codebook, "l2")
    model.save(os.path.join(a.out, "model.lance"))
    write_artifact(x, model, os.path.join(a.out, "artifact"))
    partifact.finalize(os.path.join(a.out, "artifact"), os.path.join(a.out, "index"))
    index = partifact.Index.open(os.path.join(a.out, "index"))
    q = x[:100]
    truth, _ = partifact.groundtruth(a.base, q, k=10)
    found, _ = index.search(q, k=10, nprobes=max(1, a.partitions // 4))
    print("rows %d, recall@10 %.3f" % (len(x), partifact.recall(found, truth)))


if __name__ == "__main__":
    main(sys.argv[1:])
