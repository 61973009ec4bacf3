"""The third witness: central finite differences of `manual_grad.loss`, in float64, with no JAX in it."""

import numpy as np

from manual_grad.activations import KINKED
from manual_grad.deep import forward
from manual_grad.model import unchecked_loss
from manual_grad.validate import check_loss_inputs

from .tolerances import FD_RTOL, FD_STEP


def _checked_float64(params, X, y, lam, activation):
    """The inputs checked once and cast to float64, where the witness always works."""
    return check_loss_inputs({k: np.asarray(p, np.float64) for k, p in params.items()},
                             np.asarray(X, np.float64), y, lam, activation)


def _kink_between(params, X, activations, name, v, h):
    """True when some z_l of a relu or leaky_relu layer changes sign between θ − h v and θ + h v."""
    if not any(a in KINKED for a in activations):
        return False
    signs = []
    for p in ({**params, name: params[name] + h * v}, {**params, name: params[name] - h * v}):
        a, _ = forward(p, X, activations)
        # z_l = a_{l-1} W_{l-1} + b_{l-1} for each kinked hidden layer l.
        signs.append([np.sign(a[l - 1] @ p[f"W{l - 1}"] + p[f"b{l - 1}"])
                      for l in range(2, len(activations) + 2) if activations[l - 2] in KINKED])
    return any(np.any(plus != minus) for plus, minus in zip(*signs))


def directional_derivative(params, X, y, lam, activation, name, v, h=FD_STEP):
    """(J~(θ + h v) − J~(θ − h v)) / 2h, moving only params[name] along v.

    Returns (the estimate, |J~| at θ + h v) or None where a relu or leaky_relu kink lies
    on the segment, since there the loss is not differentiable and FD witnesses nothing.
    """
    return _directional_derivative(*_checked_float64(params, X, y, lam, activation), name, v, h)


def _directional_derivative(params, X, y, lam, activation, name, v, h=FD_STEP):
    """`directional_derivative` for float64 inputs already checked."""
    if _kink_between(params, X, activation, name, v, h):
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
    errors = []
    for name in params:
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
            errors.append(error / scale if scale else error)
    worst = float(np.max(errors, initial=0.0))  # nan, where a gradient is nan: never a pass
    return bool(worst <= FD_RTOL), worst, len(errors)
