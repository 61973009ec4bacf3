"""A witness that does not depend on JAX: central finite differences of the NumPy loss, in float64."""

import numpy as np
from hypothesis import given, settings, strategies as st

import jax_reference as jr
import manual_grad as mg
from jax_reference import witness

from .strategies import cases, deep_cases


def witnessed(case, seed):
    """Finite differences agree with both gradients; returns how many directions were checked (kinks aside)."""
    params, X, y, lam, activation = case
    checked = []
    for module in (mg, jr):
        g = module.grad(params, X, y, lam, activation)
        ok, worst, checks = witness.check_gradient(g, params, X, y, lam, activation, np.random.default_rng(seed))
        assert ok, (module.__name__, worst)
        checked.append(checks)
    return min(checked)


@settings(max_examples=150)
@given(cases(dtype=st.just(np.float64)), st.integers(0, 2**32 - 1))
def test_gradients_match_finite_differences(case, seed):
    assert witnessed(case, seed) > 0  # W2 and b2 move no z2: never across a kink


@settings(max_examples=100)
@given(deep_cases(dtype=st.just(np.float64)), st.integers(0, 2**32 - 1))
def test_deep_gradients_match_finite_differences(case, seed):
    witnessed(case, seed)


def test_finite_differences_catch_a_wrong_gradient():
    """The witness is not vacuous: a gradient off by 1% in one parameter fails it."""
    params, X, y = jr.cases.make_case(np.random.default_rng(0), 6, 4, 5, 3)
    g = mg.grad(params, X, y, 0.1, "tanh")
    assert witness.check_gradient(g, params, X, y, 0.1, "tanh", np.random.default_rng(1))[0]
    g["b1"] = 1.01 * g["b1"]
    assert not witness.check_gradient(g, params, X, y, 0.1, "tanh", np.random.default_rng(1))[0]


def test_a_nan_in_the_gradient_fails_the_witness_wherever_it_sits():
    """Python's max(0, nan) is 0: the worst error must carry a nan through, never agree with it."""
    params, X, y = jr.cases.make_case(np.random.default_rng(0), 6, 4, 5, 3)
    for name in ("W1", "b2"):  # the first parameter checked, and the last
        g = mg.grad(params, X, y, 0.1, "tanh")
        g[name] = np.full_like(g[name], np.nan)
        ok, worst, _ = witness.check_gradient(g, params, X, y, 0.1, "tanh", np.random.default_rng(1))
        assert not ok and np.isnan(worst), name


def test_relu_kinks_are_skipped_not_misjudged():
    params, X, y = jr.cases.make_case(np.random.default_rng(2), 6, 4, 5, 3)
    params["W1"][:, 0] = 0
    params["b1"][0] = 0  # z2[:, 0] = 0 exactly: FD along W1 crosses the kink
    g = mg.grad(params, X, y, 0.0, "relu")
    v = np.zeros_like(params["W1"])
    v[:, 0] = 1 / 2
    assert witness.directional_derivative(params, X, y, 0.0, "relu", "W1", v) is None
    assert witness.check_gradient(g, params, X, y, 0.0, "relu", np.random.default_rng(3))[0]


def test_kinks_deep_in_the_network_are_skipped_too():
    params, X, y = jr.cases.make_case(np.random.default_rng(4), 6, 4, (5, 3), 2)
    params["W2"][:, 0] = 0
    params["b2"][0] = 0  # z3[:, 0] = 0 exactly, behind the first hidden layer
    v = np.zeros_like(params["b2"])
    v[0] = 1
    for activations in [("tanh", "relu"), ("tanh", "leaky_relu")]:
        assert witness.directional_derivative(params, X, y, 0.0, activations, "b2", v) is None
    assert witness.directional_derivative(params, X, y, 0.0, ("relu", "tanh"), "b2", v) is not None
