"""The third witness: central finite differences of `manual_grad.loss`, in float64, with no JAX in it."""

import numpy as np

import manual_grad as mg
from manual_grad.model import unchecked_loss
from manual_grad.validate import check_loss_inputs

from .tolerances import FD_RTOL, FD_STEP


def _checked_float64(params, X, y, lam, activation):
    """The inputs checked once and cast to float64, where the witness always works."""
    return check_loss_inputs({k: np.asarray(p, np.float64) for k, p in params.items()},
                             np.asarray(X, np.float64), y, lam, activation)


def _relu_kink_between(params, X, name, v, h):
    """True when some z2 = X W1 + b1 changes sign between θ − h v and θ + h v."""
    if name not in ("W1", "b1"):
        return False
    plus = {**params, name: params[name] + h * v}
    minus = {**params, name: params[name] - h * v}
    z2 = [X @ p["W1"] + p["b1"] for p in (plus, minus)]
    return bool(np.any(np.sign(z2[0]) != np.sign(z2[1])))


def directional_derivative(params, X, y, lam, activation, name, v, h=FD_STEP):
    """(J~(θ + h v) − J~(θ − h v)) / 2h, moving only params[name] along v.

    Returns (the estimate, |J~| at θ + h v) or None where a relu kink lies on
    the segment, since there the loss is not differentiable and FD witnesses nothing.
    """
    return _directional_derivative(*_checked_float64(params, X, y, lam, activation), name, v, h)


def _directional_derivative(params, X, y, lam, activation, name, v, h=FD_STEP):
    """`directional_derivative` for float64 inputs already checked."""
    if activation == "relu" and _relu_kink_between(params, X, name, v, h):
        return None
    J_plus = unchecked_loss({**params, name: params[name] + h * v}, X, y, lam, activation)
    J_minus = unchecked_loss({**params, name: params[name] - h * v}, X, y, lam, activation)
    return (J_plus - J_minus) / (2 * h), abs(J_plus)


def check_gradient(gradient, params, X, y, lam, activation, rng, entries=1):
    """Compares `gradient` (a float64 dict) with FD along one random unit direction and
    `entries` random single entries per parameter.

    Returns (ok, worst error as a fraction of ‖g‖ + |J~|, number of checks made).
    """
    params, X, y, lam, activation = _checked_float64(params, X, y, lam, activation)
    worst, checks = 0.0, 0
    for name in mg.PARAM_NAMES:
        g = np.asarray(gradient[name], np.float64)
        directions = [rng.standard_normal(g.shape)]
        for flat in rng.choice(g.size, min(entries, g.size), replace=False):
            directions.append(np.zeros(g.shape))
            directions[-1].flat[flat] = 1.0
        for v in directions:
            v = v / np.linalg.norm(v)
            result = _directional_derivative(params, X, y, lam, activation, name, v)
            if result is None:
                continue
            estimate, J = result
            error, scale = abs(estimate - np.vdot(g, v)), np.linalg.norm(g) + J
            # scale is 0 only for K = 1 with λ = 0, where J~ is 0 everywhere.
            worst = max(worst, error / scale if scale else error)
            checks += 1
    return bool(worst <= FD_RTOL), float(worst), checks
