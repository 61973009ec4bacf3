"""Timing, in a process of its own: contenders interleaved round after round, or one alone.

    python -m benchmarks.timing SHAPE DTYPE ACTIVATION ROUNDS NAME [NAME ...]

prints JSON: {"ms": {name: [ms per call, one per round]}, "compile_s": …, "blas": …}.
Run with one NAME, it times that contender alone in a fresh process; with
several, they take turns within each round, starting from a different one in
each round. Before every sample, alone or not, the contender runs untimed for
WARM seconds: by then the threads the previous contender left spinning
(OpenBLAS's, XLA's, PyTorch's) have gone to sleep, its own threads are awake
and its data is in cache, so a contender timed among others is timed under
the same conditions as alone.
"""

import json
import os
import sys
import time

import numpy as np

from benchmarks import contenders

WARM = 0.25  # s; OpenBLAS threads spin for about 2^28 cycles (~0.1 s) after a call
SAMPLE = 0.05  # s; calls per sample are doubled until one sample takes at least this


def _calls_per_sample(run):
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            run()
        if time.perf_counter() - start >= SAMPLE:
            return n
        n *= 2


def sample(runs, rounds):
    """{name: [seconds per call, one per round]}."""
    loops = {name: _calls_per_sample(run) for name, run in runs.items()}
    names, samples = list(runs), {name: [] for name in runs}
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            warm_until = time.perf_counter() + WARM
            runs[name]()
            while time.perf_counter() < warm_until:
                runs[name]()
            start = time.perf_counter()
            for _ in range(loops[name]):
                runs[name]()
            samples[name].append((time.perf_counter() - start) / loops[name])
    return samples


def blas():
    """The BLAS NumPy uses: library, version, kernel (architecture) and threads, from threadpoolctl."""
    from threadpoolctl import threadpool_info

    return [{k: info.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for info in threadpool_info() if info.get("user_api") == "blas"]


def main(argv):
    shape, dtype, activation, rounds, names = json.loads(argv[0]), argv[1], argv[2], int(argv[3]), argv[4:]
    shape = tuple(tuple(s) if isinstance(s, list) else s for s in shape)
    params, X, y = contenders.problem(shape, dtype)
    runs, compile_s = {}, None
    for name in names:
        made = contenders.make(name, params, X, y, activation)
        if made is None:
            continue
        runs[name], seconds = made
        compile_s = compile_s if seconds is None else seconds
    samples = sample(runs, rounds)
    print(json.dumps({"ms": {n: [1e3 * t for t in s] for n, s in samples.items()}, "compile_s": compile_s,
                      "blas": blas(), "median_ms": {n: 1e3 * float(np.median(s)) for n, s in samples.items()}}))


if __name__ == "__main__":
    main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: JAX's runtime threads can take seconds to stop
