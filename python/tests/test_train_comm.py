"""Distributed training from Python (Model.train_comm over pa_train_input_comm): participants
in threads, their sum a barrier adding the arrays in rank order, as an engine such as Ray or
Spark would. One participant gives partifact train's model byte for byte; three give each the
same model; an exception in sum is raised where the training was called."""
import threading

import numpy as np
import pytest

import partifact
from conftest import clustered, run_cli


class ThreadSum:
    """size participants' sum: each posts its array, all add them in rank order."""

    def __init__(self, size):
        self.size, self.posted = size, [None] * size
        self.bar = threading.Barrier(size)

    def for_rank(self, r):
        def total(v):
            self.posted[r] = v.copy()
            self.bar.wait()
            t = self.posted[0].copy()
            for q in range(1, self.size):
                t += self.posted[q]
            self.bar.wait()  # every one has read every array
            v[:] = t
        return total


def train_all(path, size, **kw):
    sums, models, errors = ThreadSum(size), [None] * size, []

    def one(r):
        try:
            models[r] = partifact.Model.train_comm(path, r, size, sums.for_rank(r), **kw)
        except BaseException as e:  # pragma: no cover (reported below)
            errors.append(e)
            sums.bar.abort()
    threads = [threading.Thread(target=one, args=(r,)) for r in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return models


def model_bytes(m, path):
    m.save(path, replace=True)
    return open(path, "rb").read()


def test_one_participant_is_partifact_train(tmp_path):
    x = clustered(3000, 16, seed=11)
    np.save(tmp_path / "x.npy", x)
    run_cli("train", "--input", tmp_path / "x.npy", "--partitions", 12, "--sub-vectors", 4,
            "--seed", 5, "--out", tmp_path / "cli.lance")
    (m,) = train_all(str(tmp_path / "x.npy"), 1, partitions=12, sub_vectors=4, seed=5)
    assert model_bytes(m, tmp_path / "one.lance") == open(tmp_path / "cli.lance", "rb").read()
    assert m.train_stats["sample_rows"] == 3000


def test_three_participants_hold_one_model(tmp_path):
    x = clustered(3000, 16, seed=12)
    np.save(tmp_path / "x.npy", x)
    ms = train_all(str(tmp_path / "x.npy"), 3, partitions=12, sub_vectors=4, seed=5)
    b = [model_bytes(m, tmp_path / ("m%d.lance" % r)) for r, m in enumerate(ms)]
    assert b[0] == b[1] == b[2]
    assert all(m.train_stats["sample_rows"] == 3000 for m in ms)


def test_an_exception_in_sum_is_raised(tmp_path):
    np.save(tmp_path / "x.npy", clustered(1000, 8, seed=13))

    def broken(v):
        raise RuntimeError("the engine lost a worker")
    with pytest.raises(RuntimeError, match="the engine lost a worker"):
        partifact.Model.train_comm(str(tmp_path / "x.npy"), 0, 1, broken, partitions=4,
                                   sub_vectors=2)
    with pytest.raises(TypeError, match="sum must be callable"):
        partifact.Model.train_comm(str(tmp_path / "x.npy"), 0, 1, None, 4, 2)
    with pytest.raises(partifact.InvalidError, match="rank below size"):
        partifact.Model.train_comm(str(tmp_path / "x.npy"), 2, 2, lambda v: None, 4, 2)
