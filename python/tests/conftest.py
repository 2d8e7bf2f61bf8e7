"""Shared fixtures: small data, a trained model and an index, made once per session.

The library is the one $PARTIFACT_LIBRARY names (ctest sets it to the build's), so that an
installed copy does not shadow the build under test; the CLI is $PARTIFACT_CLI.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))  # the package as it is in the source tree

import partifact  # noqa: E402

CLI = os.environ.get("PARTIFACT_CLI", os.path.join(ROOT, "build", "partifact"))


def run_cli(*args):
    """Runs the partifact CLI; returns its stdout, failing the test with its stderr."""
    p = subprocess.run([CLI] + [str(a) for a in args], capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError("partifact %s exited %d: %s" % (" ".join(map(str, args)),
                                                            p.returncode, p.stderr))
    return p.stdout


def clustered(n, dim, seed, clusters=20):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32) * 4
    x = centres[rng.integers(0, clusters, n)] + rng.standard_normal((n, dim)).astype(np.float32)
    return np.ascontiguousarray(x, dtype=np.float32)


@pytest.fixture(scope="session")
def data():
    return clustered(4000, 16, seed=7)


@pytest.fixture(scope="session")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("pa")


@pytest.fixture(scope="session")
def model(data, work):
    m = partifact.Model.train(data, partitions=8, sub_vectors=4, seed=3)
    m.save(work / "model.lance")
    return m


@pytest.fixture(scope="session")
def base_npy(data, work):
    p = work / "base.npy"
    np.save(p, data)
    return p


@pytest.fixture(scope="session")
def index(data, model, work):
    part_ids, codes = model.encode(data)
    with partifact.ArtifactWriter(work / "artifact", model) as w:
        w.append(np.arange(len(data), dtype=np.uint64), part_ids, codes)
    partifact.finalize(work / "artifact", work / "index")
    return partifact.Index.open(work / "index")
