"""The fast path's memory: X taken a block of rows at a time, so that the working memory is a few
(rows, H) arrays whatever N is, and X is never copied.

Peak memory is traced with tracemalloc, which sees NumPy's array allocations.
Shapes are chosen so that the blocks' arrays dominate everything else by far.
"""

import tracemalloc

import numpy as np
import pytest

import manual_grad as mg
from jax_reference.cases import make_case
from manual_grad import fast


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
def test_at_most_two_block_by_H_arrays(activation):
    N, D, H, K = 4096, 4, 512, 3
    params, X, y = make_case(np.random.default_rng(0), N, D, H, K)
    rows = min(N, fast.block_rows(params, X))
    block = rows * H * 8
    peak = peak_bytes(mg.value_and_grad, params, X, y, 0.1, activation)
    assert 2 * block <= peak < 2.25 * block, peak / block
    # The line-by-line derivation, for contrast, holds several (N, H) arrays.
    assert peak_bytes(mg.derivation_grad, params, X, y, 0.1, activation) > 2.5 * N * H * 8


@pytest.mark.slow  # 2 · 300 000 rows of width 256: the only test here that computes at that scale
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_memory_is_flat_in_N(dtype):
    """Eight times the examples, the same working memory: a block of rows at a time."""
    D, H, K = 8, 256, 3
    peaks = []
    for N in (32768, 8 * 32768):
        params, X, y = make_case(np.random.default_rng(1), N, D, H, K, dtype=dtype)
        assert fast.block_rows(params, X) < N // 2  # several blocks, at both sizes
        peaks.append(peak_bytes(mg.value_and_grad, params, X, y, 0.1, "tanh"))
    rows = fast.block_rows(params, X)
    assert peaks[1] < 1.05 * peaks[0], peaks
    assert peaks[1] < 2.5 * rows * H * np.dtype(dtype).itemsize + (1 << 20), (peaks, rows)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_no_copy_of_X(dtype):
    N, D, H, K = 2048, 2048, 4, 3
    params, X, y = make_case(np.random.default_rng(1), N, D, H, K, dtype=dtype)
    assert peak_bytes(mg.value_and_grad, params, X, y, 0.1, "tanh") < 0.1 * X.nbytes


@pytest.mark.parametrize("activation", mg.ACTIVATIONS)
@pytest.mark.parametrize("hidden", [(256, 384, 128), (384, 128, 256)])
def test_deep_holds_the_activations_and_two_deltas(activation, hidden):
    """The stored activations of a block, Σ_l rows·H_l, plus at most two (rows, max H) arrays
    (δ_{l+1} while δ_l is formed)."""
    N, D, K = 2048, 4, 3
    params, X, y = make_case(np.random.default_rng(2), N, D, hidden, K)
    rows = min(N, fast.block_rows(params, X))
    peak = peak_bytes(mg.value_and_grad, params, X, y, 0.1, activation)
    stored = rows * sum(hidden) * 8
    assert stored <= peak <= stored + 2 * rows * max(hidden) * 8, (peak / stored)


def test_X_may_be_a_memmap(tmp_path):
    params, X, y = make_case(np.random.default_rng(3), 3000, 16, 32, 5, dtype=np.float32)
    np.save(tmp_path / "X.npy", X)
    on_disk = np.load(tmp_path / "X.npy", mmap_mode="r")
    J, g = fast.value_and_grad(*mg.validate.check_loss_inputs(params, on_disk, y, 0.1, "relu"), rows=256)
    J_ref, g_ref = mg.value_and_grad(params, X, y, 0.1, "relu")
    assert np.isclose(J, J_ref, rtol=1e-5)
    assert all(np.allclose(g[k], g_ref[k], rtol=1e-4, atol=1e-7) for k in g)
