"""10M rows through partifact.ArtifactWriter with a 64 MiB budget (python_bench.sh rss): peak
RSS against the budget + one batch + the interpreter. Rows are synthetic (random part ids and
codes, as a backend would hand them over); the model is a small trained one.
Usage: python3 python_artifact_rss.py MODEL OUT ROWS BATCH MEMORY_BYTES [--baseline]
--baseline does everything but the writer and the batches (interpreter, numpy, the library,
the model): the RSS the budget and one batch are added to."""
import resource
import sys
import time

import numpy as np

import partifact

model_path, out, rows, batch, memory = sys.argv[1:6]
rows, batch, memory = int(rows), int(batch), int(memory)
baseline = "--baseline" in sys.argv
model = partifact.Model.load(model_path)
rng = np.random.default_rng(1)
t0 = time.perf_counter()
w = None if baseline else partifact.ArtifactWriter(out, model, memory=memory,
                                                     expected_rows=rows)
done = 0
while w is not None and done < rows:
    n = min(batch, rows - done)
    ids = np.arange(done, done + n, dtype=np.uint64)
    part_ids = rng.integers(0, model.partitions, n, dtype=np.uint32)
    codes = rng.integers(0, 256, (n, model.code_bytes), dtype=np.uint8)
    w.append(ids, part_ids, codes)
    del ids, part_ids, codes  # one batch alive at a time, as a backend's loop would hold
    done += n
stats = w.stats if w else {}
if w:
    w.commit()
batch_bytes = batch * (8 + 4 + model.code_bytes)
print("rows %d batch %d (%d bytes) memory %d seconds %.1f buffer_bytes %s "
      "ru_maxrss_kib %d" % (done, batch, batch_bytes, memory, time.perf_counter() - t0,
                            stats.get("buffer_bytes", 0),
                            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
