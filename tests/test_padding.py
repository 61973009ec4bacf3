"""The bucketed reference (zero padding + masks, one compilation per bucket) equals plain jax.grad of loss_fn."""

import functools

import jax
import numpy as np
import pytest

import jax_reference as jr
import manual_grad as mg
from jax_reference.cases import make_case
from jax_reference.tolerances import agrees, rounding_scales

# (N, D, H, K): ones, bucket edges (32 fits, 33 spills into 64), D ≠ H ≠ K.
SHAPES = [(1, 1, 1, 1), (1, 5, 3, 2), (7, 1, 9, 4), (3, 2, 1, 6), (32, 31, 30, 29), (33, 2, 5, 3), (4, 33, 6, 2), (5, 3, 40, 7), (6, 4, 2, 33), (70, 9, 11, 13)]
CASES = [(shape, mg.ACTIVATIONS[i % 3], [np.float64, np.float32][i % 2], [0.0, 0.7][i // 2 % 2]) for i, shape in enumerate(SHAPES)]


@functools.partial(jax.jit, static_argnames="activation")
def plain_value_and_grad(params, X, y, lam, activation):
    return jax.value_and_grad(jr.loss_fn)(params, X, y, lam, activation)


@pytest.mark.parametrize("shape, activation, dtype, lam", CASES, ids=[str(c) for c in CASES])
def test_padded_equals_plain(shape, activation, dtype, lam):
    params, X, y = make_case(np.random.default_rng(sum(shape)), *shape, dtype=dtype, label_set="ends")
    with jax.enable_x64(True):
        J_plain, g_plain = plain_value_and_grad(params, X, y, lam, activation)
    J, g = jr.value_and_grad(params, X, y, lam, activation)
    assert agrees(J, J_plain, dtype), (J, J_plain)
    scales = rounding_scales(params, X, activation)
    for name in mg.PARAM_NAMES:
        assert g[name].shape == params[name].shape
        assert agrees(g[name], g_plain[name], dtype, scales[name]), name
    z3 = jr.forward(params, X, activation)
    with jax.enable_x64(True):
        assert agrees(z3, jax.jit(jr.forward_fn, static_argnames="activation")(params, X, activation), dtype)


def test_buckets():
    assert [jr.bucket(n) for n in (1, 31, 32, 33, 64, 65, 1000)] == [32, 32, 32, 64, 64, 128, 1024]
