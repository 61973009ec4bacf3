"""A witness that does not depend on JAX: central finite differences of the NumPy loss, in float64, as
gradcheck's one witness (gradcheck.pipeline.witness) takes them."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import jax_reference as jr
import manual_grad as mg
from gradcheck.pipeline.witness import Witness, verdict
from manual_grad.model import unchecked_loss
from manual_grad.validate import check_loss_inputs

from .strategies import cases, deep_cases


def witness(params, X, y, lam, activation):
    """The witness of J~ around params, in float64, along a random direction and one entry per parameter."""
    params, X, y, lam, activations = check_loss_inputs({k: np.asarray(p, np.float64) for k, p in params.items()},
                                                       np.asarray(X, np.float64), y, lam, activation)
    return Witness(lambda p: unchecked_loss(p, X, y, lam, activations), params, taylor=False)


def check_gradient(g, params, X, y, lam, activation, rng):
    """(ok, worst error, how many directions were checked, kinks aside)."""
    checked = witness(params, X, y, lam, activation).check(g, None, rng)
    ok, worst = verdict(checked)
    return ok, worst, sum(len(w["checks"]) for w in checked.values())


def witnessed(case, seed):
    """Finite differences agree with both gradients; returns how many directions were checked (kinks aside)."""
    params, X, y, lam, activation = case
    checked = []
    for module in (mg, jr):
        g = module.grad(params, X, y, lam, activation)
        ok, worst, checks = check_gradient(g, params, X, y, lam, activation, np.random.default_rng(seed))
        assert ok, (module.__name__, worst)
        checked.append(checks)
    return min(checked)


@settings(max_examples=150)
@given(cases(dtype=st.just(np.float64)), st.integers(0, 2**32 - 1))
def test_gradients_match_finite_differences(case, seed):
    assert witnessed(case, seed) > 0  # W2 and b2 move no z2: never across a kink


@pytest.mark.slow
@settings(max_examples=100)
@given(deep_cases(dtype=st.just(np.float64)), st.integers(0, 2**32 - 1))
def test_deep_gradients_match_finite_differences(case, seed):
    witnessed(case, seed)


def test_finite_differences_catch_a_wrong_gradient():
    """The witness is not vacuous: a gradient off by 1% in one parameter fails it."""
    params, X, y = jr.cases.make_case(np.random.default_rng(0), 6, 4, 5, 3)
    g = mg.grad(params, X, y, 0.1, "tanh")
    assert check_gradient(g, params, X, y, 0.1, "tanh", np.random.default_rng(1))[0]
    g["b1"] = 1.01 * g["b1"]
    assert not check_gradient(g, params, X, y, 0.1, "tanh", np.random.default_rng(1))[0]


def test_a_nan_in_the_gradient_fails_the_witness_wherever_it_sits():
    """Python's max(0, nan) is 0: the worst error must carry a nan through, never agree with it."""
    params, X, y = jr.cases.make_case(np.random.default_rng(0), 6, 4, 5, 3)
    for name in ("W1", "b2"):  # the first parameter checked, and the last
        g = mg.grad(params, X, y, 0.1, "tanh")
        g[name] = np.full_like(g[name], np.nan)
        ok, worst, _ = check_gradient(g, params, X, y, 0.1, "tanh", np.random.default_rng(1))
        assert not ok and np.isnan(worst), name


def test_relu_kinks_are_skipped_not_misjudged():
    params, X, y = jr.cases.make_case(np.random.default_rng(2), 6, 4, 5, 3)
    params["W1"][:, 0] = 0
    params["b1"][0] = 0  # z2[:, 0] = 0 exactly: FD along W1 crosses the kink
    g = mg.grad(params, X, y, 0.0, "relu")
    v = np.zeros_like(params["W1"])
    v[:, 0] = 1 / 2
    assert witness(params, X, y, 0.0, "relu").crosses_kink("W1", v, 1.0)
    assert check_gradient(g, params, X, y, 0.0, "relu", np.random.default_rng(3))[0]


def test_kinks_deep_in_the_network_are_skipped_too():
    params, X, y = jr.cases.make_case(np.random.default_rng(4), 6, 4, (5, 3), 2)
    params["W2"][:, 0] = 0
    params["b2"][0] = 0  # z3[:, 0] = 0 exactly, behind the first hidden layer
    v = np.zeros_like(params["b2"])
    v[0] = 1
    for activations in [("tanh", "relu"), ("tanh", "leaky_relu")]:
        assert witness(params, X, y, 0.0, activations).crosses_kink("b2", v, 1.0)
    assert not witness(params, X, y, 0.0, ("relu", "tanh")).crosses_kink("b2", v, 1.0)
