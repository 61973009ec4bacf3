"""Kinks, extreme logits and dtypes: where a careless implementation breaks."""

import subprocess
import sys

import jax
import numpy as np
import pytest

import jax_reference as jr
import manual_grad as mg
from jax_reference.cases import make_case
from jax_reference.tolerances import agrees, rounding_scales, value_scales

DTYPES = [np.float64, np.float32]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation, slope_at_zero", [("relu", 0.0), ("leaky_relu", 1.0)])
def test_kinks_at_exact_zeros_follow_jax(dtype, activation, slope_at_zero):
    """φ'(0) as the JAX function: 0 for jax.nn.relu, 1 for jax.nn.leaky_relu (jnp.where(z >= 0, …)).
    Zeros in z2 made exactly, not hoped for."""
    rng = np.random.default_rng(0)
    params, X, y = make_case(rng, 6, 4, 5, 3, dtype=dtype)
    params["W1"][:, 1] = 0  # z2[:, 1] = b1[1] = 0 for every row
    params["b1"][1] = 0
    X[2] = 0  # z2[2, :] = b1, zero at column 1 and at column 3
    params["b1"][3] = 0
    z2 = X @ params["W1"] + params["b1"]
    assert np.sum(z2 == 0) == 6 + 1, "the test must hit the kink"

    g = mg.grad(params, X, y, 0.0, activation)
    g_ref = jr.grad(params, X, y, 0.0, activation)
    scales = rounding_scales(params, X, activation)
    for name in mg.PARAM_NAMES:
        assert agrees(g[name], g_ref[name], dtype, scales[name]), name
    # A hidden unit that is 0 for every row passes δ3 W2ᵀ on with the slope at 0.
    delta3 = mg.stages(params, X, y, activation)["delta3"]
    expected_b1 = slope_at_zero * (delta3 @ params["W2"].T)[:, 1].sum()
    assert g["b1"][1] == pytest.approx(expected_b1, rel=1e-5, abs=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kinks_deep_in_the_network_follow_jax(dtype):
    """Exact zeros in z3 of a three-layer network, behind a relu and a leaky_relu layer."""
    rng = np.random.default_rng(5)
    params, X, y = make_case(rng, 8, 4, (5, 6), 3, dtype=dtype)
    params["W2"][:, 2] = 0  # z3[:, 2] = b2[2] = 0
    params["b2"][2] = 0
    for activations in [("relu", "leaky_relu"), ("leaky_relu", "relu")]:
        g, g_ref = mg.grad(params, X, y, 0.2, activations), jr.grad(params, X, y, 0.2, activations)
        scales = rounding_scales(params, X, activations)
        for name in params:
            assert agrees(g[name], g_ref[name], dtype, scales[name]), (activations, name)


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
    assert agrees(J, J_ref, dtype, value_scales(params, X)["J"]), (J, J_ref)
    scales = rounding_scales(params, X, activation)
    for name in mg.PARAM_NAMES:
        assert np.all(np.isfinite(g[name])), name
        assert agrees(g[name], g_ref[name], dtype, scales[name]), name


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", mg.ACTIVATIONS)
def test_huge_hidden_inputs_raise_no_warning(dtype, activation):
    """sigmoid and softplus of ±1e4 (exp would overflow): pytest turns RuntimeWarnings into errors (pyproject)."""
    rng = np.random.default_rng(2)
    params, X, y = make_case(rng, 4, 3, (5, 4), 2, dtype=dtype)
    X *= dtype(1e4)
    J, g = mg.value_and_grad(params, X, y, 0.0, activation)
    assert np.isfinite(J) and all(np.all(np.isfinite(v)) for v in g.values())
    J_line, g_line = mg.loss(params, X, y, 0.0, activation), mg.derivation_grad(params, X, y, 0.0, activation)
    assert np.isfinite(J_line) and all(np.all(np.isfinite(v)) for v in g_line.values())


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
