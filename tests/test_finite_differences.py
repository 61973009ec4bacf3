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
    """(ok, worst error, how many directions were checked, kinks aside, J~ at params)."""
    F = witness(params, X, y, lam, activation)
    ok, worst = verdict(checked := F.check(g, None, rng))
    return ok, worst, sum(len(w["checks"]) for w in checked.values()), F.F0


def witnessed(case, seed):
    """Finite differences never contradict either gradient; returns (how many directions were checked, kinks
    aside, J~)."""
    params, X, y, lam, activation = case
    checked = []
    for module in (mg, jr):
        g = module.grad(params, X, y, lam, activation)
        ok, worst, checks, J = check_gradient(g, params, X, y, lam, activation, np.random.default_rng(seed))
        assert ok is not False, (module.__name__, worst)  # None: no direction could be checked
        checked.append(checks)
    return min(checked), J


# Where J~ is smaller than this, a direction may go unchecked: a saturated softmax's J~ is log(1 + ε), ε ~ 1e-6,
# computed to float64's rounding of the 1 (about 1e-16, not 1e-16 J~), so its central differences along any
# direction differ by about 1e-10 at FD_STEP, which the kink test's 1e-8 (‖g‖ + |J~|) then no longer covers:
# every direction looks rough, and the witness rightly checks none (found by hypothesis: J~ = 7e-6, ‖g‖ ~ 1e-4).
# From 0.1 on, that bound is ten times the rounding (directions began to go unchecked near J~ = 3e-3, in a sweep
# of a two-example relu network's output weights scaled up).
ABOVE_ROUNDING = 0.1


@settings(max_examples=150)
@given(cases(dtype=st.just(np.float64)), st.integers(0, 2**32 - 1))
def test_gradients_match_finite_differences(case, seed):
    checks, J = witnessed(case, seed)
    if J >= ABOVE_ROUNDING:
        assert checks > 0  # W2 and b2 move no z2: never across a kink


def test_a_saturated_softmax_is_witnessed_by_nothing_and_contradicted_by_nothing():
    """J~ = 4e-5 (margins of 9 and 18 in the logits, each example's label the largest): whatever roundoff decides
    of its directions (on an x86-64, every one looks rough), no gradient fails."""
    params, X, _ = jr.cases.make_case(np.random.default_rng(4), 2, 14, 14, 2)
    params["W2"] *= 8
    y = mg.forward(params, X, "relu").argmax(axis=1)
    _, J = witnessed((params, X, y, 0.0, "relu"), 0)
    assert J < 1e-4


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
        ok, worst, _, _ = check_gradient(g, params, X, y, 0.1, "tanh", np.random.default_rng(1))
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
