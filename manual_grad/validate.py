"""Input checks shared by `manual_grad` and `jax_reference`.

Every bad input is refused here, before any arithmetic, with a `ValueError`
(right type, wrong value or shape) or a `TypeError` (wrong kind of thing) whose
message names the argument (and the layer), what was expected and what came.
The checks never copy or modify their inputs: arrays are viewed with
`np.asarray`.

A network has L >= 2 weight layers, read from the keys of params: "W1", "b1",
…, "WL", "bL", layer l taking a_l (a_1 = X) to z_{l+1} = a_l W_l + b_l.
"""

import functools
import math
import numbers
import re
from collections.abc import Mapping, Sequence

import numpy as np

from .activations import TABLE

PARAM_NAMES = ("W1", "b1", "W2", "b2")  # the two-layer network's
ACTIVATIONS = tuple(TABLE)
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_KEY = re.compile(r"([Wb])([1-9][0-9]*)")
# Up to this many entries an array is checked by np.isfinite at once: its temporary is small, and the sum below,
# with the np.errstate it needs, costs more than the check itself (6 µs against 1.4 µs for a (5, 6) array).
SMALL = 1 << 14


@functools.cache
def param_names(L):
    """("W1", "b1", …, "WL", "bL")."""
    return tuple(f"{kind}{l}" for l in range(1, L + 1) for kind in "Wb")


@functools.cache
def width_names(L):
    """The names of the widths a_1 … a_{L+1}: D, H, K for two layers; D, H2, …, HL, K deeper."""
    if L == 2:
        return ("D", "H", "K")
    return ("D", *(f"H{l}" for l in range(2, L + 1)), "K")


def _check_name(position, name):
    if not isinstance(name, str):
        raise TypeError(f"activation{position} must be a string, one of {ACTIVATIONS}; "
                        f"got {type(name).__name__} {name!r}")
    if name not in ACTIVATIONS:
        raise ValueError(f"activation{position} must be one of {ACTIVATIONS}; got {name!r}")
    return name


def check_activation(activation, L=2):
    """One name for every hidden layer, or a sequence of L − 1 names: returned as a tuple of L − 1 names."""
    if isinstance(activation, str) or not isinstance(activation, Sequence):
        return (_check_name("", activation),) * (L - 1)
    if len(activation) != L - 1:
        raise ValueError(f"activation must be one name, or one per hidden layer: {L - 1} for L = {L} weight layers; "
                         f"got {len(activation)} ({list(activation)})")
    return tuple(_check_name(f"[{i}] (layer {i + 2})", name) for i, name in enumerate(activation))


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
    # Above SMALL, one pass and no temporary of the array's size: a sum is finite
    # only if every term is. A matrix is summed by BLAS (a product with ones), many
    # times faster than np.sum. A huge but finite array can overflow the sum, so
    # the exact search decides.
    if array.size <= SMALL:
        if np.isfinite(array).all():
            return
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            total = (array @ np.ones(array.shape[1], array.dtype)).sum() if array.ndim == 2 else array.sum()
            if np.isfinite(total):
                return
    bad = np.argwhere(~np.isfinite(array))
    if len(bad):
        raise ValueError(
            f"{name} must be finite; got {array[tuple(bad[0])]} at index {tuple(int(i) for i in bad[0])}"
        )


def _check_shape(name, array, expected, meaning):
    """`expected` holds ints, or None where any size >= 1 is allowed. meaning: a function that says the shape
    expected in words, called for the message alone (formatted at every call, the words cost more than the
    check: a quarter of the validation of a small network's inputs)."""
    fits = array.ndim == len(expected) and all(
        e is None or s == e for s, e in zip(array.shape, expected)
    )
    if not fits:
        raise ValueError(f"{name} must have shape {meaning()}; got shape {array.shape}")
    if 0 in array.shape:
        raise ValueError(f"{name} must have no empty dimension, shape {meaning()}; got shape {array.shape}")


def _depth(params):
    """L from the keys: W1, b1, …, WL, bL with no layer missing and nothing else."""
    L = len(params) // 2
    if L >= 2 and len(params) == 2 * L and all(key in params for key in param_names(L)):
        return L  # the usual case, without a regular expression per key
    layers = {}
    extra = []
    for key in params:
        match = _KEY.fullmatch(key) if isinstance(key, str) else None
        if match:
            layers.setdefault(int(match.group(2)), set()).add(match.group(1))
        else:
            extra.append(key)
    if extra:
        raise ValueError(f"params has unexpected keys {extra}; expected W1, b1, …, WL, bL")
    L = max(layers, default=0)
    expected = param_names(max(L, 2))
    missing = [k for k in expected if k not in params]
    if missing:
        raise ValueError(f"params is missing {missing}; expected keys {expected} (layers 1..{max(L, 2)}, "
                         f"none missing), got {sorted(params)}")
    return L


def check_params(params):
    """Returns (params as a dict of arrays, dtype, widths (D, H2, …, HL, K))."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict with keys {PARAM_NAMES} (or W1, b1, …, WL, bL); "
                        f"got {type(params).__name__}")
    L = _depth(params)
    names = width_names(L)
    p = {name: _float_array(f"params[{name!r}]", params[name]) for name in param_names(L)}
    _check_shape("params['W1']", p["W1"], (None, None), lambda: f"({names[0]}, {names[1]})")
    widths = list(p["W1"].shape)
    for l in range(1, L + 1):
        W, b = f"W{l}", f"b{l}"
        if l > 1:
            _check_shape(f"params[{W!r}]", p[W], (widths[l - 1], None),
                         lambda: f"({names[l - 1]}, {names[l]}) = ({widths[l - 1]}, {names[l]}) to match "
                                 f"params['W{l - 1}'] {p[f'W{l - 1}'].shape}")
            widths.append(p[W].shape[1])
        _check_shape(f"params[{b!r}]", p[b], (widths[l],),
                     lambda: f"({names[l]},) = ({widths[l]},) to match params[{W!r}] {p[W].shape}")

    dtype = p["W1"].dtype
    for name, array in p.items():
        if array.dtype != dtype:
            raise TypeError(
                f"params[{name!r}] has dtype {array.dtype} but params['W1'] has {dtype}; "
                "all arrays must share one dtype"
            )
        _check_finite(f"params[{name!r}]", array)
    return p, dtype, tuple(widths)


def check_X(X, D, dtype):
    X = _float_array("X", X)
    _check_shape("X", X, (None, D), lambda: f"(N, D) = (N, {D}) to match params['W1'] of D = {D}, N >= 1")
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
    if y.min() < 0 or y.max() >= K:
        i = int(np.argmax((y < 0) | (y >= K)))
        raise ValueError(f"y must hold labels in [0, K) = [0, {K}); got y[{i}] = {int(y[i])}")
    return y


def check_forward_inputs(params, X, activation):
    """Returns (params, X, activations) checked: NumPy views, and one activation name per hidden layer."""
    params, dtype, widths = check_params(params)
    activations = check_activation(activation, len(widths) - 1)
    return params, check_X(X, widths[0], dtype), activations


def check_loss_inputs(params, X, y, lam, activation):
    """Returns (params, X, y, lam, activations) checked, as NumPy views, a float λ and a tuple of names."""
    lam = check_lam(lam)
    params, X, activations = check_forward_inputs(params, X, activation)
    K = params[f"W{len(activations) + 1}"].shape[1]
    return params, X, check_y(y, X.shape[0], K), lam, activations


def check_direction(v, params):
    """Returns v, the direction of a Hessian-vector product, checked against (checked) params: the same keys,
    shapes and dtype, finite."""
    if not isinstance(v, Mapping):
        raise TypeError(f"v must be a dict with the keys of params ({', '.join(params)}); got {type(v).__name__}")
    if set(v) != set(params):
        raise ValueError(f"v must have the keys of params ({', '.join(params)}); got {', '.join(map(str, v))}")
    checked = {}
    for name, p in params.items():
        array = _float_array(f"v[{name!r}]", v[name])
        _check_shape(f"v[{name!r}]", array, p.shape, lambda: f"{p.shape}, as params[{name!r}]")
        if array.dtype != p.dtype:
            raise TypeError(f"v[{name!r}] has dtype {array.dtype} but params have {p.dtype}; v must share it")
        _check_finite(f"v[{name!r}]", array)
        checked[name] = array
    return checked
