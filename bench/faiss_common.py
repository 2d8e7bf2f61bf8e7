"""Shared by the FAISS sides of the benchmarks: which FAISS is measured (the honest peer),
reading .fvecs/.ivecs, and building IVF-PQ indexes the way partifact trains (the same sample
sizes and iterations), each phase timed.

The FAISS measured is the one on FAISS_PYTHONPATH (a build from bench/faiss_build.sh: its
BUILD/faiss-pythonpath), else whatever `import faiss` finds (Debian's python3-faiss). A FAISS
whose compile options lack AVX2 and AVX512 is a generic build: the benchmarks refuse to report
a ratio against it unless FAISS_CORRECTNESS_ONLY=1 says the run is a correctness run, and then
label it "Debian generic build: correctness only".

Usage: /usr/bin/python3 faiss_common.py --header   prints the header line of the FAISS measured
  (version, commit, compile options, OpenBLAS core, path) and exits 2 where it is refused."""
import ctypes, os, sys, time

def _above(start, name):
    """The file `name` in start or a folder above it (faiss_build.sh writes them in BUILD)."""
    d = os.path.abspath(start)
    for _ in range(8):
        if os.path.isfile(os.path.join(d, name)):
            return os.path.join(d, name)
        d = os.path.dirname(d)
    return None


_pp = os.environ.get("FAISS_PYTHONPATH")
if _pp:
    sys.path.insert(0, _pp)
    # FAISS's loader picks swigfaiss_avx512/avx2 by probing the CPU through numpy 2's
    # numpy._core, which Debian 12's numpy 1.24 lacks: faiss_build.sh names the build's level
    _lvl = _above(_pp, "faiss-opt-level")
    if _lvl and "FAISS_OPT_LEVEL" not in os.environ and open(_lvl).read().strip():
        os.environ["FAISS_OPT_LEVEL"] = open(_lvl).read().strip()
import numpy as np
import faiss

CORRECTNESS_LABEL = "Debian generic build: correctness only"


def _commit():
    """The FAISS source commit: FAISS_COMMIT, else faiss_build.sh's BUILD/faiss-commit found
    above the module, else what is known of the package."""
    if os.environ.get("FAISS_COMMIT"):
        return os.environ["FAISS_COMMIT"]
    p = _above(os.path.dirname(faiss.__file__), "faiss-commit")
    if p:
        return open(p).read().strip()
    if faiss.__file__.startswith("/usr/lib/python3/dist-packages/"):
        return "Debian package python3-faiss"
    return "unknown"


def _openblas():
    """The OpenBLAS core and library of this process (the one FAISS calls), or None."""
    libs = sorted({l.split()[-1] for l in open("/proc/self/maps") if "libopenblas" in l})
    for path in libs:
        try:
            lib = ctypes.CDLL(path)  # already loaded: the same library
            lib.openblas_get_corename.restype = ctypes.c_char_p
        except (OSError, AttributeError):
            continue
        return {"core": lib.openblas_get_corename().decode(), "library": os.path.realpath(path)}
    return None


def info():
    """What FAISS is measured: a dict for every benchmark's header and JSON."""
    opts = faiss.get_compile_options()
    simd = [o for o in opts.split() if o in ("AVX2", "AVX512", "AVX512_SPR")]
    blas = _openblas()
    return {"version": faiss.__version__, "commit": _commit(), "compile_options": opts,
            "path": os.path.dirname(os.path.abspath(faiss.__file__)),
            "openblas_core": blas["core"] if blas else None,
            "openblas": blas["library"] if blas else None,
            "honest": bool(simd), "correctness_only": not simd}


def header(i=None):
    i = i or info()
    s = (f"faiss {i['version']} ({i['commit']}), compile options: {i['compile_options']}, "
         f"OpenBLAS core {i['openblas_core']} ({i['openblas']}), from {i['path']}")
    return s + (f" -- {CORRECTNESS_LABEL}" if i["correctness_only"] else "")


def _refuse(msg):
    print(msg if msg.startswith("faiss_common: ") else "faiss_common: " + msg, file=sys.stderr)
    sys.exit(2)


def check_peer():
    """Refuses (exit 2) a FAISS that is not built for the CPU unless FAISS_CORRECTNESS_ONLY=1,
    and a FAISS_PYTHONPATH that is not where faiss came from. Returns info()."""
    i = info()
    if _pp and not i["path"].startswith(os.path.abspath(_pp)):
        _refuse(f"FAISS_PYTHONPATH={_pp} but faiss was imported from {i['path']}")
    if i["correctness_only"] and os.environ.get("FAISS_CORRECTNESS_ONLY") != "1":
        _refuse(f"faiss_common: refusing to compare against FAISS {i['version']} from {i['path']}: "
                 f"its compile options ({i['compile_options']}) have neither AVX2 nor AVX512 "
                 "(a generic build). Build the peer with bench/faiss_build.sh and set "
                 "FAISS_PYTHONPATH to its BUILD/faiss-pythonpath, or set FAISS_CORRECTNESS_ONLY=1 "
                 f"for a correctness run (labelled \"{CORRECTNESS_LABEL}\").")
    return i


def read_vecs(path, dtype=np.float32, chunk=65536):
    """The rows of a .fvecs / .ivecs file as one (n, d) array, read in chunks of rows so that
    the peak memory is the array (not the file and a copy: 10 GB rather than 5 at 10M x 128)."""
    dtype = np.dtype(dtype)
    with open(path, "rb") as f:
        d = int(np.frombuffer(f.read(4), dtype=np.int32)[0])
        row = 4 + d * dtype.itemsize
        n = os.path.getsize(path) // row
        out = np.empty((n, d), dtype=dtype)
        buf = np.empty((min(n, chunk), row), dtype=np.uint8)
        f.seek(0)
        for i in range(0, n, chunk):
            m = min(chunk, n - i)
            if f.readinto(memoryview(buf[:m]).cast("B")) != m * row:
                raise ValueError(f"{path}: short read at row {i}")
            out[i:i + m] = buf[:m, 4:].view(dtype)
    return out


def training_sample(x, nlist, seed):
    """A seeded sample of the size partifact trains on: 256 rows per partition, at least
    65,536 (all rows when there are fewer)."""
    n = len(x)
    rs = np.random.RandomState(seed)
    return x[rs.choice(n, min(n, max(256 * nlist, 65536)), replace=False)]


def build_ivf(x, nlist, m, nbits, seed, fastscan=False, residual=None, ivf_iters=10, pq_iters=25,
              threads=2):
    """IndexIVFPQ (or IndexIVFPQFastScan: FAISS's IVF{nlist},PQ{m}x4fs, or with residual=True
    IVF{nlist},PQ{m}x4fsr) trained as partifact trains: coarse k-means of ivf_iters iterations
    on the seeded sample, PQ k-means of pq_iters iterations on the whole sample (its residuals,
    or for fast-scan without residual=True, as FAISS's factory and constructor default, the
    vectors themselves; FAISS's default would subsample the PQ sample to 256 rows per
    codeword: 4,096 rows at 4 bits), then every row added, on `threads` OpenMP threads.
    Returns (index, phase seconds: coarse, pq, assign, encode, add, train)."""
    n, d = x.shape
    faiss.omp_set_num_threads(threads)
    sample = training_sample(x, nlist, seed)
    quantizer = faiss.IndexFlatL2(d)
    if fastscan:
        index = faiss.IndexIVFPQFastScan(quantizer, d, nlist, m, nbits)
        if residual is not None:
            index.by_residual = residual
    else:
        index = faiss.IndexIVFPQ(quantizer, d, nlist, m, nbits)
    index.cp.niter = ivf_iters
    index.pq.cp.niter = pq_iters
    ns = len(sample)
    index.pq.cp.max_points_per_centroid = -(-ns // (1 << nbits))
    t0 = time.perf_counter()
    # IndexIVF::train in its two steps, so that each is timed: the coarse quantizer, then the
    # encoder on the residuals of the sample (max_nt >= len(sample): nothing is subsampled)
    index.train_q1(ns, faiss.swig_ptr(sample), False, faiss.METRIC_L2)
    t1 = time.perf_counter()
    if hasattr(index, "train_encoder") and not index.by_residual:
        index.train_encoder(ns, faiss.swig_ptr(sample), None)
    elif hasattr(index, "train_encoder"):
        a = quantizer.assign(sample, 1).ravel()
        res = np.empty_like(sample)
        quantizer.compute_residual_n(ns, faiss.swig_ptr(sample), faiss.swig_ptr(res),
                                     faiss.swig_ptr(a))
        index.train_encoder(ns, faiss.swig_ptr(res), faiss.swig_ptr(a))
    else:  # FAISS before 1.8 (Debian's 1.7.3): train_residual assigns and subtracts itself
        index.train_residual(ns, faiss.swig_ptr(sample))
    index.is_trained = True
    t2 = time.perf_counter()
    if fastscan:  # IndexIVFFastScan::add_with_ids assigns and encodes in blocks itself
        index.add(x)
        t3 = t4 = time.perf_counter()
    else:  # IndexIVF::add_with_ids in its two steps: assign, then encode + append (add_core)
        keys = quantizer.assign(x, 1).ravel()
        t3 = time.perf_counter()
        index.add_core(n, faiss.swig_ptr(x), None, faiss.swig_ptr(keys))
        t4 = time.perf_counter()
    assert index.ntotal == n
    ph = {"coarse": t1 - t0, "pq": t2 - t1, "train": t2 - t0, "add": t4 - t2,
          "assign": None if fastscan else t3 - t2, "encode": None if fastscan else t4 - t3,
          "sample_rows": ns}
    return index, ph


def build_ivfpq(x, nlist, m, seed):
    """IndexIVFPQ (8-bit codes) built by build_ivf. Returns (index, quantizer, train_seconds,
    add_seconds)."""
    index, ph = build_ivf(x, nlist, m, 8, seed)
    return index, faiss.downcast_index(index.quantizer), ph["train"], ph["add"]


def pq_mse(index, x):
    """Mean over the rows of x of the squared error of their reconstruction from the codes:
    of each row's residual to its nearest coarse centroid where the index encodes residuals
    (what partifact train --encode reports), of the row itself where it does not (fast-scan's
    default); both are ||x - x_reconstructed||^2."""
    q = faiss.downcast_index(index.quantizer)
    base = None
    if index.by_residual:
        assign = q.search(x, 1)[1].ravel()
        base = q.reconstruct_n(0, index.nlist)
    err = 0.0
    for i in range(0, len(x), 65536):
        r = x[i:i + 65536] if base is None else x[i:i + 65536] - base[assign[i:i + 65536]]
        err += float(((r - index.pq.decode(index.pq.compute_codes(r))) ** 2).sum(1).sum())
    return err / len(x)


if __name__ == "__main__":
    if sys.argv[1:] != ["--header"]:
        sys.exit("usage: faiss_common.py --header")
    i = check_peer()
    print(header(i))
