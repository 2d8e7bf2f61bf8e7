"""4-bit PQ through the Python package: bits=4 in train and build, M/2-byte codes packed as
Lance packs them (sub-vector 2j in the low nibble of byte j), a 4-bit index found by search
above a recall floor, and the refusals (odd sub_vectors, bits other than 4 and 8)."""
import numpy as np
import pytest

import partifact
from conftest import clustered


@pytest.fixture(scope="module")
def model4(data):
    return partifact.Model.train(data, partitions=8, sub_vectors=4, bits=4, seed=3)


def test_train_encode_4bit(data, model4):
    assert model4.bits == 4 and model4.code_bytes == 2
    assert model4.codebook.shape == (4, 16, 4)
    parts, codes = model4.encode(data[:500])
    assert codes.shape == (500, 2) and codes.dtype == np.uint8
    # each nibble is the nearest of the 16 codewords of its sub-space, for the residual
    r = data[:500] - model4.centroids[parts]
    cb = model4.codebook
    for m in range(4):
        d = ((r[:, None, 4 * m:4 * m + 4] - cb[m][None]) ** 2).sum(-1)
        nib = (codes[:, m // 2] >> (4 * (m % 2))) & 15
        assert (d[np.arange(500), nib] <= d.min(1) * (1 + 1e-4) + 1e-5).all()
    again = partifact.Model.from_arrays(model4.centroids, model4.codebook, metric="l2")
    assert again.bits == 4
    assert (again.encode(data[:500])[1] == codes).all()


def test_index_and_build_4bit(data, base_npy, tmp_path):
    # one dimension per sub-vector: 16 codewords quantise this data well enough to find it
    model16 = partifact.Model.train(data, partitions=8, sub_vectors=16, bits=4, seed=3)
    parts, codes = model16.encode(data)
    model16.save(tmp_path / "m.lance")
    m = partifact.Model.load(tmp_path / "m.lance")
    with partifact.ArtifactWriter(tmp_path / "a", m) as w:
        w.append(np.arange(len(data), dtype=np.uint64), parts, codes)
    partifact.finalize(tmp_path / "a", tmp_path / "i")
    x = partifact.Index.open(tmp_path / "i")
    assert x.info["num_bits"] == 4 and x.info["num_sub_vectors"] == 16
    q = data[:50]
    gt, _ = partifact.groundtruth(base_npy, q, k=10)
    found, _ = x.search(q, k=10, nprobes=8)
    assert partifact.recall(found, gt) >= 0.6  # 0.786 seen (8-bit, 4 sub-vectors: 0.564)
    st = partifact.build(base_npy, tmp_path / "b", partitions=8, sub_vectors=16, bits=4, seed=3)
    assert st["num_partitions"] == 8
    assert partifact.Index.open(tmp_path / "b").info["num_bits"] == 4


def test_4bit_refusals(data):
    with pytest.raises(partifact.InvalidError, match="num_sub_vectors must be even for 4-bit"):
        partifact.Model.train(clustered(2000, 12, seed=1), partitions=4, sub_vectors=3, bits=4)
    with pytest.raises(partifact.InvalidError, match="num_bits must be 8 or 4, got 5"):
        partifact.Model.train(data, partitions=4, sub_vectors=4, bits=5)
