"""FAISS as the backend: FAISS trains and encodes an IndexIVFPQ, partifact writes the index.

    python3 faiss_backend.py BASE.npy QUERIES.npy OUT_DIR [PARTITIONS SUB_VECTORS NPROBE]

FAISS's coarse centroids and PQ centroids become a partifact model (Model.from_arrays), FAISS's
assignments and codes of the residuals go through ArtifactWriter, partifact finalizes the index,
and both search the queries: the script prints how often their neighbours agree.

Mapping (IndexIVFPQ, by_residual, 8-bit codes, l2):
  quantizer.reconstruct_n(0, nlist)           -> centroids (partitions, dim)
  vector_to_array(pq.centroids) as (M, 256, dsub) -> codebook, already partifact's layout
  quantizer.search(x, 1) ids                  -> part_ids (uint32)
  pq.compute_codes(x - centroids[part_ids])   -> codes (n, M) uint8
"""
import os
import sys

import numpy as np

import faiss
import partifact


def train_faiss(x, partitions, sub_vectors, seed=0):
    d = x.shape[1]
    quantizer = faiss.IndexFlatL2(d)
    index = faiss.IndexIVFPQ(quantizer, d, partitions, sub_vectors, 8)
    index.cp.seed = seed
    index.pq.cp.seed = seed
    index.train(x)
    return index


def to_model(index):
    centroids = index.quantizer.reconstruct_n(0, index.nlist).astype(np.float32)
    pq = index.pq
    codebook = faiss.vector_to_array(pq.centroids).reshape(pq.M, pq.ksub, pq.dsub)
    return partifact.Model.from_arrays(np.ascontiguousarray(centroids),
                                       np.ascontiguousarray(codebook, dtype=np.float32), "l2")


def encode(index, centroids, x):
    _, a = index.quantizer.search(x, 1)
    part_ids = a[:, 0].astype(np.uint32)
    codes = index.pq.compute_codes(np.ascontiguousarray(x - centroids[part_ids]))
    return part_ids, codes


def run(x, q, out, partitions=16, sub_vectors=8, nprobe=4, k=10, batch=20000):
    """Builds both indexes and returns the agreement of their search results."""
    os.makedirs(out, exist_ok=True)
    fi = train_faiss(x, partitions, sub_vectors)
    model = to_model(fi)
    model.save(os.path.join(out, "model.lance"))
    centroids = model.centroids
    with partifact.ArtifactWriter(os.path.join(out, "artifact"), model) as w:
        for s in range(0, len(x), batch):
            part_ids, codes = encode(fi, centroids, x[s:s + batch])
            w.append(np.arange(s, s + len(part_ids), dtype=np.uint64), part_ids, codes)
    partifact.finalize(os.path.join(out, "artifact"), os.path.join(out, "index"))
    fi.add(x)
    fi.nprobe = nprobe
    fd, fids = fi.search(q, k)
    ids, d = partifact.Index.open(os.path.join(out, "index")).search(q, k=k, nprobes=nprobe)
    return {"ids": float((ids.astype(np.int64) == fids).mean()),
            "max_dist_diff": float(np.abs(d - fd).max())}


def main(argv):
    if len(argv) not in (3, 6):
        sys.exit("usage: faiss_backend.py BASE.npy QUERIES.npy OUT_DIR [PARTITIONS SUB_VECTORS "
                 "NPROBE]")
    sizes = [int(v) for v in argv[3:]] or [16, 8, 4]
    x, q = (np.ascontiguousarray(np.load(f), dtype=np.float32) for f in argv[:2])
    r = run(x, q, argv[2], *sizes)
    print("neighbour ids equal to FAISS's: %.4f; largest distance difference %.2e"
          % (r["ids"], r["max_dist_diff"]))


if __name__ == "__main__":
    main(sys.argv[1:])
