"""Input checks shared by `manual_grad` and `jax_reference`.

Every bad input is refused here, before any arithmetic, with a `ValueError`
(right type, wrong value or shape) or a `TypeError` (wrong kind of thing) whose
message names the argument, what was expected and what came. The checks never
copy or modify their inputs: arrays are viewed with `np.asarray`.
"""

import math
import numbers
from collections.abc import Mapping

import numpy as np

from .activations import TABLE

PARAM_NAMES = ("W1", "b1", "W2", "b2")
ACTIVATIONS = tuple(TABLE)
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_activation(activation):
    if not isinstance(activation, str):
        raise TypeError(
            f"activation must be a string, one of {ACTIVATIONS}; "
            f"got {type(activation).__name__} {activation!r}"
        )
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}; got {activation!r}")
    return activation


def check_lam(lam):
    """λ ≥ 0 and finite, returned as a Python float."""
    if isinstance(lam, (bool, np.bool_)) or not isinstance(lam, numbers.Real):
        raise TypeError(f"lam must be a real number >= 0; got {type(lam).__name__} {lam!r}")
    lam = float(lam)
    if not math.isfinite(lam) or lam < 0:
        raise ValueError(f"lam must be finite and >= 0; got {lam!r}")
    return lam


def _float_array(name, value):
    array = np.asarray(value)
    if array.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be a float32 or float64 array; got dtype {array.dtype}")
    return array


def _check_finite(name, array):
    # One pass and no temporary: a sum is finite only if every term is. A huge
    # but finite array can overflow the sum, so the exact search decides.
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(array.sum()):
            return
    bad = np.argwhere(~np.isfinite(array))
    if len(bad):
        raise ValueError(
            f"{name} must be finite; got {array[tuple(bad[0])]} at index {tuple(int(i) for i in bad[0])}"
        )


def _check_shape(name, array, expected, meaning):
    """`expected` holds ints, or None where any size >= 1 is allowed."""
    fits = array.ndim == len(expected) and all(
        e is None or s == e for s, e in zip(array.shape, expected)
    )
    if not fits:
        raise ValueError(f"{name} must have shape {meaning}; got shape {array.shape}")
    if 0 in array.shape:
        raise ValueError(f"{name} must have no empty dimension, shape {meaning}; got shape {array.shape}")


def check_params(params):
    """Returns (params as a dict of arrays, dtype, (D, H, K))."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict with keys {PARAM_NAMES}; got {type(params).__name__}")
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise ValueError(f"params is missing {missing}; expected keys {PARAM_NAMES}, got {sorted(params)}")
    extra = [k for k in params if k not in PARAM_NAMES]
    if extra:
        raise ValueError(f"params has unexpected keys {extra}; expected exactly {PARAM_NAMES}")

    p = {name: _float_array(f"params[{name!r}]", params[name]) for name in PARAM_NAMES}
    _check_shape("params['W1']", p["W1"], (None, None), "(D, H)")
    D, H = p["W1"].shape
    _check_shape("params['b1']", p["b1"], (H,), f"(H,) = ({H},) to match W1 {p['W1'].shape}")
    _check_shape("params['W2']", p["W2"], (H, None), f"(H, K) = ({H}, K) to match W1 {p['W1'].shape}")
    K = p["W2"].shape[1]
    _check_shape("params['b2']", p["b2"], (K,), f"(K,) = ({K},) to match W2 {p['W2'].shape}")

    dtype = p["W1"].dtype
    for name, array in p.items():
        if array.dtype != dtype:
            raise TypeError(
                f"params[{name!r}] has dtype {array.dtype} but params['W1'] has {dtype}; "
                "all arrays must share one dtype"
            )
        _check_finite(f"params[{name!r}]", array)
    return p, dtype, (D, H, K)


def check_X(X, D, dtype):
    X = _float_array("X", X)
    _check_shape("X", X, (None, D), f"(N, D) = (N, {D}) to match params['W1'] of D = {D}, N >= 1")
    if X.dtype != dtype:
        raise TypeError(f"X has dtype {X.dtype} but params have {dtype}; all arrays must share one dtype")
    _check_finite("X", X)
    return X


def check_y(y, N, K):
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"y must hold integer class labels; got dtype {y.dtype}")
    if y.shape != (N,):
        raise ValueError(f"y must have shape (N,) = ({N},) to match X; got shape {y.shape}")
    outside = (y < 0) | (y >= K)
    if np.any(outside):
        i = int(np.argmax(outside))
        raise ValueError(f"y must hold labels in [0, K) = [0, {K}); got y[{i}] = {int(y[i])}")
    return y


def check_forward_inputs(params, X, activation):
    """Returns (params, X, activation) checked, as NumPy views."""
    check_activation(activation)
    params, dtype, (D, _, _) = check_params(params)
    return params, check_X(X, D, dtype), activation


def check_loss_inputs(params, X, y, lam, activation):
    """Returns (params, X, y, lam, activation) checked, as NumPy views and a float λ."""
    lam = check_lam(lam)
    params, X, activation = check_forward_inputs(params, X, activation)
    y = check_y(y, X.shape[0], params["W2"].shape[1])
    return params, X, y, lam, activation
