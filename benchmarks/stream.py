"""manual_grad over a dataset larger than its working memory: X a np.memmap on disk.

    python -m benchmarks.stream [--N 1000000] [--D 256] [--H 256] [--K 10]

Writes a float32 X of N rows to a temporary file, opens it as a memmap and
runs one `manual_grad.value_and_grad`, tracing NumPy's allocations with
tracemalloc (the memmap's pages are the input, not working memory). Prints
JSON: the working memory's peak in MiB, what two (N, H) arrays would take,
seconds, and the block size.
"""

import argparse
import json
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

import manual_grad as mg
from manual_grad import fast


def measure(N, D, H, K, seed=0):
    rng = np.random.default_rng(seed)
    params = mg.init_params(D, H, K, rng=rng, dtype=np.float32)
    y = rng.integers(0, K, N)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "X.f32"
        X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(N, D))
        for start in range(0, N, 1 << 16):  # written in pieces, so that writing it takes no memory either
            X[start:start + (1 << 16)] = rng.standard_normal((min(1 << 16, N - start), D), dtype=np.float32)
        X.flush()
        del X
        X = np.load(path, mmap_mode="r")
        tracemalloc.start()
        start = time.perf_counter()
        J, g = mg.value_and_grad(params, X, y, 1e-3, "sigmoid")
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        outputs = sum(v.nbytes for v in g.values())
        del X
    return {"N": N, "D": D, "H": H, "K": K, "dtype": "float32", "X on disk MiB": N * D * 4 / 2**20,
            "working memory MiB": (peak - outputs) / 2**20, "two (N, H) arrays MiB": 2 * N * H * 4 / 2**20,
            "block rows": fast.block_rows(params, np.empty((1, D), np.float32)), "seconds": seconds,
            "J finite": bool(np.isfinite(J))}


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.stream", description=__doc__.split("\n\n")[0])
    for name, default in (("N", 10**6), ("D", 256), ("H", 256), ("K", 10)):
        p.add_argument(f"--{name}", type=int, default=default)
    args = p.parse_args(argv)
    print(json.dumps(measure(args.N, args.D, args.H, args.K)))


if __name__ == "__main__":
    main()
