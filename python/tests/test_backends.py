"""External backends through ArtifactWriter: the numpy example's artifact finalizes into the
index the CPU backend's does, byte for byte, and searches as the CLI does; FAISS's codes too
(when faiss is importable)."""
import os
import sys

import numpy as np
import pytest

import partifact
from conftest import ROOT, clustered, run_cli

sys.path.insert(0, os.path.join(ROOT, "python", "examples"))  # numpy_backend, faiss_backend
import numpy_backend  # noqa: E402


def test_numpy_backend_index_identical_to_cpu_backend(tmp_path):
    x = clustered(3000, 16, seed=11)
    q = clustered(50, 16, seed=12)
    np.save(tmp_path / "base.npy", x)
    np.save(tmp_path / "q.npy", q)
    centroids, codebook = numpy_backend.train(x, 8, 4, seed=1, iters=4)
    model = partifact.Model.from_arrays(centroids, codebook, "l2")
    model.save(tmp_path / "model.lance")

    # the codes agree with the library's CPU backend
    p_np, c_np = numpy_backend.encode(x, centroids, codebook)
    p_cpu, c_cpu = model.encode(x)
    assert np.array_equal(p_np, p_cpu) and np.array_equal(c_np, c_cpu)

    # numpy backend -> ArtifactWriter -> finalize (the package)
    numpy_backend.write_artifact(x, model, tmp_path / "np-art", batch=700)
    partifact.finalize(tmp_path / "np-art", tmp_path / "np-idx")
    # cpu backend -> encode -> finalize (the CLI)
    run_cli("encode", "--input", tmp_path / "base.npy", "--model", tmp_path / "model.lance",
            "--out", tmp_path / "cpu-art")
    run_cli("finalize", "--artifact", tmp_path / "cpu-art", "--out", tmp_path / "cpu-idx")
    for f in ("index.idx", "auxiliary.idx"):
        a = (tmp_path / "np-idx" / f).read_bytes()
        b = (tmp_path / "cpu-idx" / f).read_bytes()
        assert a == b, f

    # search through the package equals the CLI's
    run_cli("search", "--index", tmp_path / "cpu-idx", "--queries", tmp_path / "q.npy",
            "-k", 10, "--nprobes", 3, "--out", tmp_path / "res.npy")
    want = np.load(tmp_path / "res.npy")
    ids, _ = partifact.Index.open(tmp_path / "np-idx").search(q, k=10, nprobes=3)
    assert np.array_equal(ids, want.astype(np.uint64))


def test_numpy_example_runs(tmp_path):
    x = clustered(2000, 16, seed=5)
    np.save(tmp_path / "b.npy", x)
    numpy_backend.main([str(tmp_path / "b.npy"), str(tmp_path / "out"), "--partitions", "4",
                        "--sub-vectors", "4"])
    assert (tmp_path / "out" / "index" / "index.idx").exists()


def test_faiss_backend(tmp_path):
    pytest.importorskip("faiss")
    import faiss_backend
    x = clustered(4000, 16, seed=21)
    q = clustered(50, 16, seed=22)
    agree = faiss_backend.run(x, q, str(tmp_path), partitions=8, sub_vectors=4, nprobe=3)
    assert agree["ids"] >= 0.99, agree
