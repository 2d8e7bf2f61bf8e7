"""Converts Debian's dataset-fashion-mnist (idx, gzip) to .fvecs (float32 pixel values).
Usage: /usr/bin/python3 fashion_mnist.py OUT_TRAIN.fvecs OUT_TEST.fvecs"""
import gzip, sys
import numpy as np
root = "/usr/share/datasets/fashion-mnist"

def images(name):
    for p in (f"{root}/{name}.gz", f"{root}/{name}"):
        try:
            with (gzip.open(p) if p.endswith(".gz") else open(p, "rb")) as f:
                raw = f.read()
            break
        except FileNotFoundError:
            continue
    else:
        sys.exit(f"{root}/{name}(.gz) not found: apt-get install dataset-fashion-mnist")
    n, r, c = (int.from_bytes(raw[4 * i:4 * i + 4], "big") for i in (1, 2, 3))
    return np.frombuffer(raw, np.uint8, n * r * c, 16).reshape(n, r * c).astype(np.float32)

def write_fvecs(path, x):
    n, d = x.shape
    out = np.empty((n, d + 1), np.float32)
    out[:, 0] = np.array([d], np.int32).view(np.float32)[0]
    out[:, 1:] = x
    out.tofile(path)

write_fvecs(sys.argv[1], images("train-images-idx3-ubyte"))
write_fvecs(sys.argv[2], images("t10k-images-idx3-ubyte"))
