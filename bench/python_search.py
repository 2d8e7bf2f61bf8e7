"""The Python side of the overhead benchmark (python_bench.sh): the same measurements as
python_search_c.c, through the partifact package.
Usage: python3 python_search.py INDEX QUERIES.npy K NPROBES RUNS"""
import sys
import time

import numpy as np

import partifact

index_path, queries, k, nprobes, runs = sys.argv[1:6]
k, nprobes, runs = int(k), int(nprobes), int(runs)
index = partifact.Index.open(index_path)
q = np.load(queries)
nq = len(q)
for r in range(runs):
    lat = np.empty(nq)
    for i in range(nq):
        qi = q[i:i + 1]
        t0 = time.perf_counter_ns()
        index.search(qi, k=k, nprobes=nprobes)
        lat[i] = (time.perf_counter_ns() - t0) / 1e3
    lat.sort()
    t0 = time.perf_counter_ns()
    index.search(q, k=k, nprobes=nprobes)
    batch = (time.perf_counter_ns() - t0) / 1e6
    print("run %d batch1_p50_us %.1f batch1_p99_us %.1f batch%d_ms %.2f"
          % (r, lat[nq // 2], lat[(nq * 99) // 100], nq, batch))
