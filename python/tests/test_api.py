"""Every public function of the package, on small data."""
import ctypes
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import partifact
from partifact import _lib
from conftest import clustered


def test_library_found_and_versioned():
    assert os.path.exists(partifact.library_path())
    assert partifact.library_version().count(".") == 2


def test_library_lookup_order_installed_before_build_tree(monkeypatch):
    monkeypatch.delenv(_lib.LIBRARY_ENV, raising=False)
    monkeypatch.setenv(_lib.BUILD_DIR_ENV, "/some/build")
    c = _lib._candidates()
    kinds = [how for how, _ in c]
    assert kinds.index("installed") < kinds.index("build tree")
    assert kinds[0] == "the dynamic loader's search path"
    assert ("build tree", "/some/build/libpartifact.so.0") in c


def test_library_missing_names_where_it_looked(tmp_path):
    env = dict(os.environ, PARTIFACT_LIBRARY=str(tmp_path / "nowhere.so"),
               PYTHONPATH=os.path.dirname(os.path.dirname(partifact.__file__)))
    p = subprocess.run([sys.executable, "-c", "import partifact"], env=env, cwd=tmp_path,
                       capture_output=True, text=True)
    assert p.returncode != 0
    assert "ImportError: partifact: libpartifact not found; looked in: " in p.stderr
    assert str(tmp_path / "nowhere.so") + " (absent)" in p.stderr
    assert "$PARTIFACT_LIBRARY" in p.stderr


# ------------------------------------------------------------------------------------ Model


def test_train_encode_properties(data, model):
    assert (model.dim, model.partitions, model.sub_vectors, model.bits) == (16, 8, 4, 8)
    assert model.metric == "l2" and model.code_bytes == 4
    assert model.centroids.shape == (8, 16) and model.centroids.dtype == np.float32
    assert model.codebook.shape == (4, 256, 4) and model.codebook.dtype == np.float32
    assert model.train_stats["sample_rows"] == len(data)
    p, c = model.encode(data[:100])
    assert p.dtype == np.uint32 and p.shape == (100,) and p.max() < 8
    assert c.dtype == np.uint8 and c.shape == (100, 4)
    # the nearest centroid, as numpy finds it
    d = ((data[:100, None, :] - model.centroids[None]) ** 2).sum(-1)
    assert (d.argmin(1) == p).mean() > 0.98
    assert "partitions=8" in repr(model)


def test_train_is_seeded(data):
    a = partifact.Model.train(data[:1000], 4, 4, seed=9, max_iters=3, pq_max_iters=3)
    b = partifact.Model.train(data[:1000], 4, 4, seed=9, max_iters=3, pq_max_iters=3)
    assert np.array_equal(a.centroids, b.centroids) and np.array_equal(a.codebook, b.codebook)


def test_train_metrics(data):
    for metric in ("cosine", "dot"):
        m = partifact.Model.train(data[:1000], 4, 4, metric=metric, seed=1, max_iters=2,
                                  pq_max_iters=2)
        assert m.metric == metric


def test_from_arrays_roundtrip_and_save_load(model, tmp_path):
    m2 = partifact.Model.from_arrays(model.centroids, model.codebook, "l2")
    assert m2.path is None
    assert np.array_equal(m2.centroids, model.centroids)
    assert np.array_equal(m2.codebook, model.codebook)
    m2.save(tmp_path / "m.lance")
    assert m2.path == str(tmp_path / "m.lance")
    m3 = partifact.Model.load(tmp_path / "m.lance")
    assert np.array_equal(m3.codebook, model.codebook) and m3.metric == "l2"
    with pytest.raises(partifact.ExistsError, match="m.lance"):
        m2.save(tmp_path / "m.lance")
    m2.save(tmp_path / "m.lance", replace=True)


def test_from_arrays_shape_checks(model):
    c, b = model.centroids, model.codebook
    with pytest.raises(ValueError, match="does not fit dimension 16"):
        partifact.Model.from_arrays(c, b[:, :, :2].copy(), "l2")
    with pytest.raises(ValueError, match="2\\^bits"):
        partifact.Model.from_arrays(c, b[:, :100].copy(), "l2")
    with pytest.raises(ValueError, match="3-dimensional"):
        partifact.Model.from_arrays(c, b.reshape(4, -1), "l2")
    with pytest.raises(ValueError, match="metric"):
        partifact.Model.from_arrays(c, b, "hamming")
    with pytest.raises(TypeError, match="metric must be a str"):
        partifact.Model.from_arrays(c, b, 3)


# ------------------------------------------------------------------------------------ bad arrays


@pytest.mark.parametrize("bad, exc, msg", [
    (lambda x: x.astype(np.float64), TypeError, "x must have dtype float32, got float64"),
    (lambda x: x.tolist(), TypeError, "x must be a numpy.ndarray of float32, got list"),
    (lambda x: x[0], ValueError, "x must be 2-dimensional, got shape \\(16,\\)"),
    (lambda x: x[:, ::2], ValueError, "x must be C-contiguous"),
    (lambda x: np.asfortranarray(x), ValueError, "x must be C-contiguous"),
])
def test_bad_arrays_encode_and_train(data, model, bad, exc, msg):
    x = bad(data[:50].copy())
    with pytest.raises(exc, match=msg):
        model.encode(x)
    with pytest.raises(exc, match=msg):
        partifact.Model.train(x, 4, 4)


def test_nan_rows_refused_naming_them(data, model, index, base_npy, tmp_path):
    x = data[:300].copy()
    x[5, 3] = np.nan
    # encode and train: the library's own check (no second pass or copy in Python)
    with pytest.raises(partifact.InvalidError, match="row 5 has NaN at dimension 3"):
        model.encode(x)
    with pytest.raises(partifact.InvalidError, match="row 5 has NaN at dimension 3"):
        partifact.Model.train(x, 4, 4)
    # queries and model arrays: checked by the package
    with pytest.raises(ValueError, match="queries holds a NaN or Inf at \\(5, 3\\)"):
        index.search(x)
    with pytest.raises(ValueError, match="queries holds a NaN or Inf at \\(5, 3\\)"):
        partifact.groundtruth(base_npy, x)
    c = model.centroids
    c[2, 1] = np.inf
    with pytest.raises(ValueError, match="centroids holds a NaN or Inf at \\(2, 1\\)"):
        partifact.Model.from_arrays(c, model.codebook, "l2")


def test_dimension_mismatch(model, index):
    x = np.zeros((3, 8), dtype=np.float32)
    with pytest.raises(ValueError, match="x has dimension 8, the model has dimension 16"):
        model.encode(x)
    with pytest.raises(partifact.InvalidError, match="dimension 8"):
        index.search(x)


def test_zero_copy_for_right_arrays(data):
    # a C-contiguous array of the right dtype is passed as it is: the pointer is its own
    assert partifact._array(data, "x", np.float32, 2) is data
    assert partifact._addr(data) == data.ctypes.data  # what the calls get: its own buffer
    addr = ctypes.cast(partifact._ptr(data, ctypes.c_float), ctypes.c_void_p).value
    assert addr == data.ctypes.data  # struct fields (Model.from_arrays) too
    # a C-contiguous slice of rows is passed as it is, too
    view = data[:10]
    assert partifact._array(view, "x", np.float32, 2) is view


def test_bad_scalars(data):
    with pytest.raises(ValueError, match="partitions must be positive"):
        partifact.Model.train(data, 0, 4)
    with pytest.raises(TypeError, match="sub_vectors must be an int"):
        partifact.Model.train(data, 4, 4.0)
    with pytest.raises(TypeError, match="path must be a path"):
        partifact.Model.load(3)


# ------------------------------------------------------------------------------------ errors


def test_every_status_maps_to_its_class():
    names = {1: "InvalidError", 2: "IoError", 3: "FormatError", 4: "UnsupportedError",
             5: "NoMemoryError", 6: "RangeError", 7: "StateError", 8: "IncompleteError",
             9: "BudgetError", 10: "ExistsError"}
    for st, name in names.items():
        e = partifact._error(st)
        assert type(e).__name__ == name and isinstance(e, partifact.Error)
        assert e.status == st and e.status_name == _lib.status_name(st)
    assert issubclass(partifact.InvalidError, ValueError)
    assert issubclass(partifact.ExistsError, FileExistsError)
    assert issubclass(partifact.IoError, OSError)
    assert issubclass(partifact.RangeError, IndexError)
    assert issubclass(partifact.NoMemoryError, MemoryError)


def test_error_invalid_carries_message(data):
    with pytest.raises(partifact.InvalidError) as ei:
        partifact.Model.train(data, 4, 5)  # 5 does not divide 16
    assert ei.value.status == 1 and ei.value.status_name == "invalid"
    assert str(ei.value) and str(ei.value) == ei.value.message
    assert "--" not in str(ei.value)  # the library names fields, never CLI flags


def test_error_io(model, tmp_path):
    with pytest.raises(partifact.IoError):
        model.save(tmp_path / "no" / "such" / "dir" / "m.lance")


def test_error_format(tmp_path):
    (tmp_path / "junk.lance").write_bytes(b"not a lance file" * 10)
    with pytest.raises(partifact.FormatError, match="junk.lance"):
        partifact.Model.load(tmp_path / "junk.lance")


def test_error_unsupported_and_incomplete(model, data, tmp_path):
    a = tmp_path / "a"
    with partifact.ArtifactWriter(a, model) as w:
        p, c = model.encode(data[:10])
        w.append(np.arange(10, dtype=np.uint64), p, c)
    man = json.loads((a / "manifest.json").read_text())
    man["partifact"]["format_version"] = 1
    (a / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(partifact.UnsupportedError):
        partifact.finalize(a, tmp_path / "i")
    os.remove(a / "manifest.json")
    with pytest.raises(partifact.IncompleteError):
        partifact.finalize(a, tmp_path / "i")
    assert not (tmp_path / "i").exists()


def test_error_range(index, data, tmp_path):
    few = tmp_path / "few.npy"
    np.save(few, data[:10])
    with pytest.raises(partifact.RangeError):
        index.search(data[100:102], k=5, nprobes=8, refine_factor=4, input=few)


def test_error_budget(model, tmp_path):
    with pytest.raises(partifact.BudgetError):
        partifact.ArtifactWriter(tmp_path / "a", model, memory=1024)
    assert os.listdir(tmp_path) == []


def test_error_state_closed_writer(model, tmp_path):
    w = partifact.ArtifactWriter(tmp_path / "a", model)
    w.abort()
    w.abort()  # twice is fine
    with pytest.raises(partifact.StateError, match="closed"):
        w.append(np.zeros(1, np.uint64), np.zeros(1, np.uint32), np.zeros((1, 4), np.uint8))


# ------------------------------------------------------------------------------------ artifact


def test_artifact_writer_commits_on_clean_exit(model, data, tmp_path):
    a = tmp_path / "a"
    with partifact.ArtifactWriter(a, model, buckets=2, memory=1 << 20) as w:
        p, c = model.encode(data)
        for s in range(0, len(data), 1000):
            w.append(np.arange(s, s + 1000, dtype=np.uint64), p[s:s + 1000], c[s:s + 1000])
        st = w.stats
        assert st["rows"] == len(data)
    assert w.committed and (a / "manifest.json").exists()
    man = json.loads((a / "manifest.json").read_text())
    assert man["version"] == 1 and man["partifact"]["num_buckets"] == 2
    assert sorted(os.listdir(tmp_path)) == ["a"]
    with pytest.raises(partifact.ExistsError):
        partifact.ArtifactWriter(a, model)
    with partifact.ArtifactWriter(a, model, replace=True) as w:
        w.append(np.arange(10, dtype=np.uint64), p[:10], c[:10])
    assert sorted(os.listdir(tmp_path)) == ["a"]


def test_artifact_writer_aborts_on_exception(model, data, tmp_path):
    a = tmp_path / "a"
    p, c = model.encode(data[:100])
    with pytest.raises(RuntimeError, match="backend failed"):
        with partifact.ArtifactWriter(a, model) as w:
            w.append(np.arange(100, dtype=np.uint64), p, c)
            raise RuntimeError("backend failed")
    assert not w.committed
    assert os.listdir(tmp_path) == []  # nothing that looks complete, nothing at all


def test_artifact_writer_refuses_bad_batches(model, data, tmp_path):
    p, c = model.encode(data[:10])
    ids = np.arange(10, dtype=np.uint64)
    with partifact.ArtifactWriter(tmp_path / "a", model) as w:
        with pytest.raises(ValueError, match="same length, got 10, 9 and 10"):
            w.append(ids, p[:9], c)
        with pytest.raises(ValueError, match="4 bytes per row"):
            w.append(ids, p, np.zeros((10, 3), np.uint8))
        with pytest.raises(TypeError, match="row_ids must have dtype uint64, got int64"):
            w.append(ids.astype(np.int64), p, c)
        with pytest.raises(TypeError, match="part_ids must have dtype uint32"):
            w.append(ids, p.astype(np.int32), c)
        with pytest.raises(ValueError, match="C-contiguous"):
            w.append(ids, p, np.asfortranarray(c))
        bad = p.copy()
        bad[3] = 99
        with pytest.raises(partifact.RangeError, match="part_id 99; expected < 8"):
            w.append(ids, bad, c)
        assert w.stats["rows"] == 0  # refused batches append nothing
        w.append(ids, p, c)
    assert partifact.finalize(tmp_path / "a", tmp_path / "i")["rows"] == 10


def test_shards_finalized_into_one_segment(model, data, tmp_path):
    """Shards written by any producer, each with its coverage, finalize into the index one
    artifact of all the rows gives (byte for byte); overlapping shards are refused."""
    p, c = model.encode(data)
    n = len(data)

    def shard(name, begin, end):
        cov = {"input": "/data/base.npy", "input_rows": n, "row_begin": begin, "row_end": end}
        with partifact.ArtifactWriter(tmp_path / name, model, coverage=cov) as w:
            w.append(np.arange(begin, end, dtype=np.uint64), p[begin:end], c[begin:end])

    shard("s0", 0, 1500)
    shard("s1", 1500, n)
    shard("all", 0, n)
    man = json.loads((tmp_path / "s1" / "manifest.json").read_text())
    cov = man.get("coverage") or man.get("partifact", {}).get("coverage")
    assert cov == {"input": "/data/base.npy", "input_rows": n, "row_begin": 1500, "row_end": n}
    st = partifact.finalize([tmp_path / "s1", tmp_path / "s0"], tmp_path / "seg")
    assert st["rows"] == n
    partifact.finalize(tmp_path / "all", tmp_path / "one")
    for f in ("index.idx", "auxiliary.idx"):
        assert (tmp_path / "seg" / f).read_bytes() == (tmp_path / "one" / f).read_bytes()
    with pytest.raises(partifact.InvalidError, match="which overlap rows"):
        partifact.finalize([tmp_path / "s0", tmp_path / "all"], tmp_path / "bad")
    with pytest.raises(TypeError, match="coverage must be a dict"):
        partifact.ArtifactWriter(tmp_path / "x", model, coverage="rows 0-9")


def test_artifact_writer_needs_model_file(data, model, tmp_path):
    m = partifact.Model.from_arrays(model.centroids, model.codebook, "l2")
    with pytest.raises(ValueError, match="save it first"):
        partifact.ArtifactWriter(tmp_path / "a", m)
    w = partifact.ArtifactWriter(tmp_path / "a", model.path)  # a path works too
    assert w.model.partitions == 8
    w.abort()


# ------------------------------------------------------------------------------------ encode, finalize, build


def test_encode_finalize_progress(model, base_npy, data, tmp_path):
    seen = []
    st = partifact.encode(base_npy, model, tmp_path / "a", progress=lambda *a: seen.append(a))
    assert st["rows"] == len(data)
    assert seen and seen[-1][0] == "encode" and seen[-1][1] == len(data)
    seen.clear()
    fs = partifact.finalize(tmp_path / "a", tmp_path / "i", progress=lambda *a: seen.append(a))
    assert fs["rows"] == len(data) and fs["partitions"] == 8
    assert [s[0] for s in seen] == ["finalize"] * len(seen)
    assert seen[-1][1:] == (8, 8)
    with pytest.raises(partifact.ExistsError):
        partifact.finalize(tmp_path / "a", tmp_path / "i")
    partifact.finalize(tmp_path / "a", tmp_path / "i", replace=True, model=model, memory=1 << 20,
                       threads=1)


def test_progress_exception_is_raised_after_the_call(model, base_npy, tmp_path):
    partifact.encode(base_npy, model, tmp_path / "a")

    def stop(stage, done, total):
        raise KeyboardInterrupt("stop")
    with pytest.raises(KeyboardInterrupt):
        partifact.finalize(tmp_path / "a", tmp_path / "i", progress=stop)
    with pytest.raises(TypeError, match="progress must be callable"):
        partifact.finalize(tmp_path / "a", tmp_path / "j", progress=3)


def test_build_with_progress(base_npy, data, tmp_path):
    stages = set()
    st = partifact.build(base_npy, tmp_path / "i", partitions=8, sub_vectors=4, seed=2,
                         progress=lambda s, d, t: stages.add(s))
    assert st["num_partitions"] == 8 and st["finalize"]["rows"] == len(data)
    assert {"train", "encode", "finalize"} <= stages
    assert partifact.Index.open(tmp_path / "i").info["num_rows"] == len(data)
    with pytest.raises(partifact.ExistsError):
        partifact.build(base_npy, tmp_path / "i")
    with pytest.raises(partifact.IoError):
        partifact.build(tmp_path / "missing.npy", tmp_path / "j")
    with pytest.raises(partifact.Error, match="libpartifact-backend-nosuch.so"):
        partifact.build(base_npy, tmp_path / "j", accelerator="nosuch", backend_path=tmp_path)
    assert not (tmp_path / "j").exists()
    with pytest.raises(partifact.InvalidError, match="nosuchkey"):
        partifact.build(base_npy, tmp_path / "j", backend_options={"nosuchkey": 1})
    assert not (tmp_path / "j").exists()


def _make_table(path, x):
    """A Lance dataset with one column "vector" (through the C API: the package has no writer)."""
    class Field(ctypes.Structure):
        _fields_ = [("name", ctypes.c_char_p), ("type", ctypes.c_int), ("dim", ctypes.c_uint32)]
    L = _lib.lib
    f = Field(b"vector", 5, x.shape[1])  # PA_TYPE_FSL_FLOAT32
    w = ctypes.c_void_p()
    assert L.pa_dataset_writer_create(ctypes.byref(w), os.fsencode(path), ctypes.byref(f),
                                      ctypes.c_size_t(1), None) == 0, _lib.last_error()
    cols = (ctypes.c_void_p * 1)(x.ctypes.data)
    L.pa_dataset_writer_append.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64]
    assert L.pa_dataset_writer_append(w, cols, len(x)) == 0, _lib.last_error()
    L.pa_dataset_writer_commit.argtypes = [ctypes.c_void_p]
    assert L.pa_dataset_writer_commit(w) == 0, _lib.last_error()
    L.pa_dataset_writer_free.argtypes = [ctypes.c_void_p]
    L.pa_dataset_writer_free(w)


def test_commit_into_table(data, tmp_path):
    t = tmp_path / "t.lance"
    _make_table(t, data[:2000])
    partifact.build(t, tmp_path / "i", partitions=4, sub_vectors=4)
    r = partifact.commit(tmp_path / "i", t)
    assert r["version"] == 2 and r["read_version"] == 1 and r["name"] == "vector_idx"
    assert len(r["uuid"]) == 36 and (t / "_indices" / r["uuid"]).is_dir()
    with pytest.raises(partifact.Error):
        partifact.commit(tmp_path / "i", t)  # the name is taken
    r = partifact.commit(tmp_path / "i", t, replace=True)
    assert r["replaced"] == 1
    r = partifact.commit(tmp_path / "i", t, name="second")
    assert r["name"] == "second"


# ------------------------------------------------------------------------------------ index


def test_index_search_info(index, data):
    info = index.info
    assert info["num_rows"] == len(data) and info["metric"] == "l2" and info["dimension"] == 16
    ids, d = index.search(data[:20], k=5, nprobes=8)
    assert ids.shape == (20, 5) and ids.dtype == np.uint64 and d.dtype == np.float32
    assert (ids[:, 0] == np.arange(20)).mean() >= 0.9  # each row finds itself
    assert np.all(np.diff(d, axis=1) >= 0)
    i1, d1 = index.search(data[3], k=5, nprobes=8)  # one query
    assert i1.shape == (5,) and np.array_equal(i1, ids[3])
    assert index.last_stats["nprobes_used"] == 8
    ir, dr = index.search(data[:20], k=5, nprobes=8, refine_factor=4,
                          input=os.path.join(os.path.dirname(index.path), "base.npy"))
    assert np.array_equal(ir[:, 0], np.arange(20))
    assert np.allclose(dr[:, 0], 0, atol=1e-4)


def test_index_search_fast_scan(base_npy, data, tmp_path):
    partifact.build(base_npy, tmp_path / "i4", partitions=8, sub_vectors=4, bits=4, seed=2)
    x = partifact.Index.open(tmp_path / "i4")
    assert x.info["num_bits"] == 4
    fi, fd = x.search(data[:50], k=5, nprobes=8)
    assert x.last_stats["fast_scan_used"] == 1 and x.last_stats["rows_reranked"] > 0
    pi, pd = x.search(data[:50], k=5, nprobes=8, fast_scan=False)
    assert x.last_stats["fast_scan_used"] == 0 and x.last_stats["rows_reranked"] == 0
    assert (fi[:, 0] == pi[:, 0]).mean() >= 0.9
    ai, ad = x.search(data[:50], k=5, nprobes=8, rerank_factor=len(data))  # every row re-ranked
    assert np.array_equal(ai, pi) and np.array_equal(ad, pd)


def test_index_search_errors(index, data, tmp_path):
    with pytest.raises(partifact.InvalidError):
        index.search(data[:2], k=len(data) + 1)
    with pytest.raises(ValueError, match="needs input"):
        index.search(data[:2], refine_factor=2)
    with pytest.raises(ValueError, match="k must be positive"):
        index.search(data[:2], k=0)
    with pytest.raises(partifact.IoError):
        partifact.Index.open(tmp_path / "nothing")


def test_index_open_with_budget_and_close(index, data):
    with partifact.Index.open(index.path, memory=4 << 20) as small:
        assert small.info["memory_bytes"] == 4 << 20
        a = small.search(data[:10], k=5, nprobes=3)
        b = index.search(data[:10], k=5, nprobes=3)
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
        info = small.info  # the cache's share of the budget, never passed
        assert 0 < info["cache_bytes"] < 4 << 20
        assert 0 < info["cache_peak_bytes"] <= info["cache_bytes"] and info["cache_reads"] > 0
    with pytest.raises(partifact.StateError, match="closed"):
        small.search(data[:1])


def test_index_searched_from_threads(index, data):
    q = data[:200]
    want = index.search(q, k=10, nprobes=4)
    got = [None] * 4

    def one(i):
        got[i] = index.search(q, k=10, nprobes=4, threads=1)
    ts = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    for g in got:
        assert np.array_equal(g[0], want[0]) and np.array_equal(g[1], want[1])


def test_gil_released_during_long_calls():
    """Another Python thread runs while the library trains (ctypes releases the GIL for every
    call into a CDLL)."""
    x = clustered(30000, 32, seed=1, clusters=64)
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.002)
    t = threading.Thread(target=ticker)
    t.start()
    t0 = time.perf_counter()
    partifact.Model.train(x, 64, 8, seed=1, max_iters=10, pq_max_iters=10)
    t1 = time.perf_counter()
    stop.set()
    t.join()
    inside = [s for s in ticks if t0 < s < t1]
    assert t1 - t0 > 0.05
    # with the GIL held the ticker could not run at all between t0 and t1
    assert len(inside) >= 5, (len(inside), t1 - t0)


# ------------------------------------------------------------------------------------ ground truth


def test_groundtruth_and_recall(index, data, base_npy):
    q = data[:30]
    ids, d = partifact.groundtruth(base_npy, q, k=10)
    full = ((q[:, None, :].astype(np.float64) - data[None].astype(np.float64)) ** 2).sum(-1)
    want = np.argsort(full, axis=1, kind="stable")[:, :10]
    assert (ids == want).mean() > 0.99
    assert np.allclose(d, np.sort(full, axis=1)[:, :10], rtol=1e-3, atol=1e-3)
    assert partifact.recall(ids, ids) == 1.0
    found, _ = index.search(q, k=10, nprobes=8)
    r = partifact.recall(found, ids)
    mine = np.mean([len(set(found[i]) & set(ids[i])) / 10 for i in range(len(q))])
    assert abs(r - mine) < 1e-12
    assert partifact.recall(found, ids, k=1) == np.mean(found[:, 0] == ids[:, 0])
    with pytest.raises(ValueError, match="same number of queries"):
        partifact.recall(found[:5], ids)
    with pytest.raises(partifact.InvalidError):
        partifact.recall(found, ids, k=11)
    with pytest.raises(TypeError, match="found must have dtype uint64"):
        partifact.recall(found.astype(np.int64), ids)
    gi, _ = partifact.groundtruth(base_npy, q, k=5, metric="dot")
    assert gi.shape == (30, 5)


def test_older_struct_gets_the_library_defaults(index, data):
    """A package built when pa_index_search_options lacked its last field (num_threads) still
    works: the library reads struct_size bytes and defaults the rest."""
    fields = [f for f in _lib.SearchOptions._fields_ if f[0] != "struct_size"][:-1]
    Old = _lib._struct("old_search_options", fields)
    assert ctypes.sizeof(Old) < ctypes.sizeof(_lib.SearchOptions)
    o = _lib.options(Old, "pa_index_search_options_init")
    assert o.struct_size == ctypes.sizeof(Old) and o.k > 0  # init filled what fits
    o.k, o.nprobes = 5, 4
    q = data[:10]
    ids = np.empty((10, 5), np.uint64)
    d = np.empty((10, 5), np.float32)
    f = _lib.lib["pa_index_search"]  # a fresh function object, untyped: any struct pointer
    f.restype = ctypes.c_int
    st = f(index._h, partifact._ptr(q, ctypes.c_float), ctypes.c_uint64(10), ctypes.c_uint32(16),
           ctypes.byref(o), partifact._ptr(ids, ctypes.c_uint64), partifact._ptr(d, ctypes.c_float),
           None)
    assert st == 0, _lib.last_error()
    want = index.search(q, k=5, nprobes=4)
    assert np.array_equal(ids, want[0]) and np.array_equal(d, want[1])
    # a struct_size never set is refused, naming the struct
    with pytest.raises(partifact.InvalidError, match="pa_index_search_options"):
        partifact._check(_lib.lib.pa_index_search_options_init(ctypes.byref(o), 0))


def test_library_found_by_the_loader_reports_its_file(tmp_path):
    """Loaded by soname (an installed copy on the loader's path), library_path() is the file."""
    libdir = os.path.dirname(partifact.library_path())
    env = {k: v for k, v in os.environ.items() if k != _lib.LIBRARY_ENV}
    env.update(LD_LIBRARY_PATH=libdir,
               PYTHONPATH=os.path.dirname(os.path.dirname(partifact.__file__)))
    p = subprocess.run([sys.executable, "-c", "import partifact; print(partifact.library_path())"],
                       env=env, cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == os.path.join(libdir, "libpartifact.so.0")


def test_index_close_refused_while_searched(index):
    other = partifact.Index.open(index.path)
    other._acquire()  # as a search in another thread holds it
    with pytest.raises(partifact.StateError, match="being searched"):
        other.close()
    other._release()
    other.close()
    other.close()  # twice is fine
