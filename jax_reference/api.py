"""The public functions: same names and signatures as `manual_grad`.

Inputs are checked by `manual_grad.validate` (one set of rules for both
packages), zero-padded to a bucket shape, and given to a jitted function that
is compiled once per bucket, activation and dtype rather than once per input
shape. float64 inputs are computed in float64 whatever the global JAX setting.
Results come back as NumPy arrays of the input dtype.
"""

import functools

import jax
import numpy as np

from manual_grad.validate import check_forward_inputs, check_loss_inputs

from .model import forward_fn, masked_loss_fn, masked_stages_fn

MIN_BUCKET = 32


def bucket(n):
    """The padded size for a dimension of size n: a power of two, at least MIN_BUCKET."""
    return max(MIN_BUCKET, 1 << (n - 1).bit_length())


def _pad(array, shape):
    padded = np.zeros(shape, array.dtype)
    padded[tuple(slice(0, s) for s in array.shape)] = array
    return padded


def _pad_params(params):
    D, H = params["W1"].shape
    K = params["W2"].shape[1]
    Dp, Hp, Kp = bucket(D), bucket(H), bucket(K)
    return {
        "W1": _pad(params["W1"], (Dp, Hp)),
        "b1": _pad(params["b1"], (Hp,)),
        "W2": _pad(params["W2"], (Hp, Kp)),
        "b2": _pad(params["b2"], (Kp,)),
    }


def _unpad(padded, params):
    return {name: np.asarray(padded[name])[tuple(slice(0, s) for s in params[name].shape)]
            for name in params}


@functools.partial(jax.jit, static_argnames="activation")
def _padded_forward(params, X, activation):
    return forward_fn(params, X, activation)


@functools.partial(jax.jit, static_argnames="activation")
def _padded_value_and_grad(params, X, y, n, k, lam, activation):
    return jax.value_and_grad(masked_loss_fn)(params, X, y, n, k, lam, activation)


@functools.partial(jax.jit, static_argnames="activation")
def _padded_stages(params, X, y, n, k, activation):
    return masked_stages_fn(params, X, y, n, k, activation)


def _padded_problem(params, X, y):
    """Checked inputs zero-padded to their bucket, with the true N and K."""
    N, D = X.shape
    return (
        _pad_params(params),
        _pad(X, (bucket(N), bucket(D))),
        _pad(y.astype(np.int32), (bucket(N),)),
        np.int32(N),
        np.int32(params["W2"].shape[1]),
    )


def _value_and_grad(params, X, y, lam, activation):
    """Checked inputs in, (J~ as a 0-d array, grads as a dict of arrays) out."""
    with jax.enable_x64(True):
        J, grads = _padded_value_and_grad(*_padded_problem(params, X, y), lam, activation)
        return np.asarray(J), _unpad(grads, params)


def forward(params, X, activation="sigmoid"):
    """The logits z3, (N, K). Args as `manual_grad.forward`."""
    params, X, activation = check_forward_inputs(params, X, activation)
    N, D = X.shape
    with jax.enable_x64(True):
        z3 = _padded_forward(_pad_params(params), _pad(X, (bucket(N), bucket(D))), activation)
        return np.asarray(z3)[:N, : params["W2"].shape[1]]


def value_and_grad(params, X, y, lam=0.0, activation="sigmoid"):
    """(J~, grads) from `jax.value_and_grad`. Args as `manual_grad.value_and_grad`."""
    return _value_and_grad(*check_loss_inputs(params, X, y, lam, activation))


def loss(params, X, y, lam=0.0, activation="sigmoid"):
    """J~ = J + lam (‖W1‖² + ‖W2‖²). Args as `manual_grad.loss`."""
    return value_and_grad(params, X, y, lam, activation)[0]


def grad(params, X, y, lam=0.0, activation="sigmoid"):
    """The gradient of J~ from `jax.grad`. Args as `manual_grad.grad`."""
    return value_and_grad(params, X, y, lam, activation)[1]


def stages(params, X, y, activation="sigmoid"):
    """δ3 = ∂J/∂z3 (N, K) and δ2 = ∂J/∂z2 (N, H) by autodiff. Args as `manual_grad.stages`."""
    params, X, y, _, activation = check_loss_inputs(params, X, y, 0.0, activation)
    N, H, K = X.shape[0], params["W1"].shape[1], params["W2"].shape[1]
    with jax.enable_x64(True):
        deltas = _padded_stages(*_padded_problem(params, X, y), activation)
        return {"delta3": np.asarray(deltas["delta3"])[:N, :K], "delta2": np.asarray(deltas["delta2"])[:N, :H]}
