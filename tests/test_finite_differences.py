"""A witness that does not depend on JAX: central finite differences of the NumPy loss, in float64."""

import numpy as np
from hypothesis import assume, given, settings, strategies as st

import jax_reference as jr
import manual_grad as mg
from jax_reference.tolerances import FD_RTOL, FD_STEP

from .strategies import cases


def _shifted(params, name, v, h):
    return {**params, name: params[name] + h * v}


def _kinks_between(params, X):
    """True when some relu input z2 changes sign between the two parameter points."""
    z2 = [X @ p["W1"] + p["b1"] for p in params]
    return bool(np.any(np.sign(z2[0]) != np.sign(z2[1])))


@settings(max_examples=150)
@given(cases(dtype=st.just(np.float64)), st.integers(0, 2**32 - 1))
def test_gradients_match_finite_differences(case, seed):
    params, X, y, lam, activation = case
    rng = np.random.default_rng(seed)
    for module in (mg, jr):
        g = module.grad(params, X, y, lam, activation)
        for name in mg.PARAM_NAMES:
            v = rng.standard_normal(params[name].shape)
            v /= np.linalg.norm(v)
            plus, minus = _shifted(params, name, v, FD_STEP), _shifted(params, name, v, -FD_STEP)
            if activation == "relu":
                # FD is a witness only where the loss is smooth along the segment.
                assume(not _kinks_between((plus, minus), X))
            J_plus = mg.loss(plus, X, y, lam, activation)
            J_minus = mg.loss(minus, X, y, lam, activation)
            fd = (J_plus - J_minus) / (2 * FD_STEP)
            scale = np.linalg.norm(g[name]) + abs(J_plus)
            assert abs(fd - np.vdot(g[name], v)) <= FD_RTOL * scale, (module.__name__, name, fd, np.vdot(g[name], v))
