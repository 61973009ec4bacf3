"""The fast path's memory: two (N, H) working arrays in the backward pass, and no copy of X.

Peak memory is traced with tracemalloc, which sees NumPy's array allocations.
Shapes are chosen so that one array dominates everything else by far.
"""

import tracemalloc

import numpy as np
import pytest

import manual_grad as mg
from jax_reference.cases import make_case


def peak_bytes(function, *args):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        function(*args)
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("activation", mg.ACTIVATIONS)
def test_at_most_two_N_by_H_arrays(activation):
    N, D, H, K = 4096, 4, 512, 3
    params, X, y = make_case(np.random.default_rng(0), N, D, H, K)
    NH = N * H * 8
    peak = peak_bytes(mg.value_and_grad, params, X, y, 0.1, activation)
    assert 2 * NH <= peak < 2.25 * NH, peak / NH
    # The line-by-line derivation, for contrast, holds more.
    assert peak_bytes(mg.derivation_grad, params, X, y, 0.1, activation) > 2.5 * NH


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_no_copy_of_X(dtype):
    N, D, H, K = 2048, 2048, 4, 3
    params, X, y = make_case(np.random.default_rng(1), N, D, H, K, dtype=dtype)
    assert peak_bytes(mg.value_and_grad, params, X, y, 0.1, "tanh") < 0.1 * X.nbytes


@pytest.mark.parametrize("activation", mg.ACTIVATIONS)
@pytest.mark.parametrize("hidden", [(256, 384, 128), (384, 128, 256)])
def test_deep_holds_the_activations_and_two_deltas(activation, hidden):
    """The stored activations Σ_l N·H_l, plus at most two (N, max H) arrays (δ_{l+1} while δ_l is formed)."""
    N, D, K = 2048, 4, 3
    params, X, y = make_case(np.random.default_rng(2), N, D, hidden, K)
    peak = peak_bytes(mg.value_and_grad, params, X, y, 0.1, activation)
    stored = N * sum(hidden) * 8
    assert stored <= peak <= stored + 2 * N * max(hidden) * 8, (peak / stored)
