"""Kinks, extreme logits and dtypes: where a careless implementation breaks."""

import subprocess
import sys

import jax
import numpy as np
import pytest

import jax_reference as jr
import manual_grad as mg
from jax_reference.cases import make_case
from jax_reference.tolerances import agrees, rounding_scales

DTYPES = [np.float64, np.float32]


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_at_exact_zeros_follows_jax(dtype):
    """φ'(0) = 0 for relu, as jax.nn.relu: zeros in z2 made exactly, not hoped for."""
    rng = np.random.default_rng(0)
    params, X, y = make_case(rng, 6, 4, 5, 3, dtype=dtype)
    params["W1"][:, 1] = 0  # z2[:, 1] = b1[1] = 0 for every row
    params["b1"][1] = 0
    X[2] = 0  # z2[2, :] = b1, zero at column 1 and at column 3
    params["b1"][3] = 0
    z2 = X @ params["W1"] + params["b1"]
    assert np.sum(z2 == 0) == 6 + 1, "the test must hit the kink"

    g = mg.grad(params, X, y, 0.0, "relu")
    g_ref = jr.grad(params, X, y, 0.0, "relu")
    scales = rounding_scales(params, X, "relu")
    for name in mg.PARAM_NAMES:
        assert agrees(g[name], g_ref[name], dtype, scales[name]), name
    # With φ'(0) = 0 a hidden unit that is 0 for every row gets no gradient.
    assert np.all(g["W1"][:, 1] == 0) and g["b1"][1] == 0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", mg.ACTIVATIONS)
def test_extreme_logits_stay_finite(dtype, activation):
    """|z3| around 1e4: max-shifted log-softmax keeps J and the gradients finite."""
    rng = np.random.default_rng(1)
    params, X, y = make_case(rng, 7, 3, 4, 5, dtype=dtype)
    params["W2"] *= dtype(1e4)
    params["b2"] = np.array([1e4, -1e4, 0, 5e3, -5e3], dtype)
    z3 = mg.forward(params, X, activation)
    assert np.max(np.abs(z3)) > 5e3
    J, g = mg.value_and_grad(params, X, y, 0.1, activation)
    J_ref, g_ref = jr.value_and_grad(params, X, y, 0.1, activation)
    assert np.isfinite(J) and J > 0
    assert agrees(J, J_ref, dtype), (J, J_ref)
    scales = rounding_scales(params, X, activation)
    for name in mg.PARAM_NAMES:
        assert np.all(np.isfinite(g[name])), name
        assert agrees(g[name], g_ref[name], dtype, scales[name]), name


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_of_huge_inputs_raises_no_warning(dtype):
    """pytest turns RuntimeWarnings into errors (pyproject), so an exp overflow would fail here."""
    rng = np.random.default_rng(2)
    params, X, y = make_case(rng, 4, 3, 5, 2, dtype=dtype)
    X *= dtype(1e4)
    J, g = mg.value_and_grad(params, X, y)
    assert np.isfinite(J) and all(np.all(np.isfinite(v)) for v in g.values())


def test_float64_is_not_downcast_whatever_the_global_jax_setting():
    """x64 is off by default; the reference must still compute float64 inputs in float64."""
    assert not jax.config.jax_enable_x64
    rng = np.random.default_rng(3)
    params, X, y = make_case(rng, 5, 3, 4, 2)
    # A perturbation of 1e-12 in W1 is invisible in float32 and visible in float64.
    bumped = {**params, "W1": params["W1"] + 1e-12}
    assert jr.loss(params, X, y, 1e3) != jr.loss(bumped, X, y, 1e3)
    J, g = jr.value_and_grad(params, X, y)
    assert J.dtype == np.float64 and all(v.dtype == np.float64 for v in g.values())
    assert not jax.config.jax_enable_x64, "the global setting must be left as it was"


def test_float32_in_float32_out():
    params, X, y = make_case(np.random.default_rng(4), 5, 3, 4, 2, dtype=np.float32)
    for module in (mg, jr):
        J, g = module.value_and_grad(params, X, y, 0.5)
        assert J.dtype == np.float32 and all(v.dtype == np.float32 for v in g.values()), module.__name__


def test_manual_grad_never_imports_jax():
    code = "import sys, manual_grad; manual_grad.grad; assert 'jax' not in sys.modules, sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)
