"""FAISS side of the build benchmarks: IndexIVFPQ (or, with `fs`, IndexIVFPQFastScan: the
factory's IVF{NLIST},PQ{M}x4fs, PQ on the vectors; `fsr`: IVF{NLIST},PQ{M}x4fsr, on residuals)
train + add on the same data, sample size and iterations as
partifact, each phase timed, and the PQ mean squared reconstruction error on residuals.
Usage: /usr/bin/python3 faiss_ivfpq.py BASE.fvecs NLIST M SEED [BITS [fs|fsr]]  -> one JSON line
  The FAISS measured: see faiss_common.py (FAISS_PYTHONPATH; refused when generic unless
  FAISS_CORRECTNESS_ONLY=1). PQ_MSE=0 leaves the error out (pq_mse null: bench/scale_bench.sh,
  where it would assign every row again)."""
import json, os, sys
from faiss_common import build_ivf, check_peer, pq_mse, read_vecs

peer = check_peer()
x = read_vecs(sys.argv[1])
nlist, m, seed = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
bits = int(sys.argv[5]) if len(sys.argv) > 5 else 8
kind = sys.argv[6] if len(sys.argv) > 6 else ""
fastscan = kind in ("fs", "fsr")
n, d = x.shape
index, ph = build_ivf(x, nlist, m, bits, seed, fastscan=fastscan, residual=True if kind == "fsr" else None)
mse = None if os.environ.get("PQ_MSE") == "0" else pq_mse(index, x)
print(json.dumps({"train_seconds": ph["train"], "add_seconds": ph["add"],
                  "total_seconds": ph["train"] + ph["add"], "phases": ph, "pq_mse": mse,
                  "rows": n, "dim": d, "bits": bits, "fastscan": fastscan,
                  "by_residual": bool(index.by_residual), "faiss": peer}))
