"""Random test cases for a gradient function: used by the test suite and by gradcheck."""

from collections.abc import Sequence

import numpy as np

LABEL_SETS = ("random", "one_class", "every_class", "ends")


def labels(rng, N, K, label_set):
    """N labels in [0, K).

    "random": uniform, classes may be missing; "one_class": all the same class;
    "every_class": each class present when N >= K; "ends": only 0 and K − 1.
    """
    if label_set == "random":
        return rng.integers(0, K, N)
    if label_set == "one_class":
        return np.full(N, rng.integers(0, K))
    if label_set == "every_class":
        return rng.permutation(np.resize(np.arange(K), N)) if N >= K else rng.choice(K, N, replace=False)
    if label_set == "ends":
        return np.where(np.arange(N) % 2 == 0, 0, K - 1)
    raise ValueError(f"label_set must be one of {LABEL_SETS}; got {label_set!r}")


def make_case(rng, N, D, H, K, *, dtype=np.float64, label_set="random", scale=1.0):
    """(params, X, y) with weights of standard deviation scale/sqrt(fan-in) and nonzero biases.

    H is the hidden width, or a sequence of hidden widths for a deeper network.
    """
    widths = (D, *(H if isinstance(H, Sequence) else (H,)), K)
    params = {}
    for l, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        params[f"W{l}"] = scale * rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)
        params[f"b{l}"] = rng.standard_normal(fan_out)
    params = {name: value.astype(dtype) for name, value in params.items()}
    X = rng.standard_normal((N, D)).astype(dtype)
    return params, X, labels(rng, N, K, label_set)
