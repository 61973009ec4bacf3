"""The public functions: same names and signatures as `manual_grad`.

Inputs are checked by `manual_grad.validate` (one set of rules for both
packages), zero-padded to a bucket shape, and given to a jitted function that
is compiled once per bucket, depth and dtype rather than once per input shape
and mix of activations (they are passed as traced codes, see model.CODES). float64 inputs are computed in float64 whatever the global JAX setting.
Results come back as NumPy arrays of the input dtype.
"""

import jax
import numpy as np

from manual_grad.validate import check_forward_inputs, check_loss_inputs

from .model import CODES, forward_fn, masked_loss_fn, masked_stages_fn

MIN_BUCKET = 32


def bucket(n):
    """The padded size for a dimension of size n: a power of two, at least MIN_BUCKET."""
    return max(MIN_BUCKET, 1 << (n - 1).bit_length())


def _pad(array, shape):
    padded = np.zeros(shape, array.dtype)
    padded[tuple(slice(0, s) for s in array.shape)] = array
    return padded


def _pad_params(params):
    """Every W_l and b_l padded to the buckets of its widths."""
    return {name: _pad(p, tuple(bucket(s) for s in p.shape)) for name, p in params.items()}


def _unpad(padded, params):
    return {name: np.asarray(padded[name])[tuple(slice(0, s) for s in params[name].shape)]
            for name in params}


@jax.jit
def _padded_forward(params, X, codes):
    return forward_fn(params, X, codes)


@jax.jit
def _padded_value_and_grad(params, X, y, n, k, lam, codes):
    return jax.value_and_grad(masked_loss_fn)(params, X, y, n, k, lam, codes)


@jax.jit
def _padded_stages(params, X, y, n, k, codes):
    return masked_stages_fn(params, X, y, n, k, codes)


def _codes(activations):
    return np.array([CODES[a] for a in activations], np.int32)


def _K(params, activations):
    return params[f"W{len(activations) + 1}"].shape[1]


def _padded_problem(params, X, y, activations):
    """Checked inputs zero-padded to their bucket, with the true N and K."""
    N, D = X.shape
    return (
        _pad_params(params),
        _pad(X, (bucket(N), bucket(D))),
        _pad(y.astype(np.int32), (bucket(N),)),
        np.int32(N),
        np.int32(_K(params, activations)),
    )


def _value_and_grad(params, X, y, lam, activations):
    """Checked inputs in, (J~ as a 0-d array, grads as a dict of arrays) out."""
    with jax.enable_x64(True):
        J, grads = _padded_value_and_grad(*_padded_problem(params, X, y, activations), lam, _codes(activations))
        return np.asarray(J), _unpad(grads, params)


def forward(params, X, activation="sigmoid"):
    """The logits z_{L+1}, (N, K). Args as `manual_grad.forward`."""
    params, X, activations = check_forward_inputs(params, X, activation)
    N, D = X.shape
    with jax.enable_x64(True):
        z = _padded_forward(_pad_params(params), _pad(X, (bucket(N), bucket(D))), _codes(activations))
        return np.asarray(z)[:N, : _K(params, activations)]


def value_and_grad(params, X, y, lam=0.0, activation="sigmoid"):
    """(J~, grads) from `jax.value_and_grad`. Args as `manual_grad.value_and_grad`."""
    return _value_and_grad(*check_loss_inputs(params, X, y, lam, activation))


def loss(params, X, y, lam=0.0, activation="sigmoid"):
    """J~ = J + lam Σ_l ‖W_l‖². Args as `manual_grad.loss`."""
    return value_and_grad(params, X, y, lam, activation)[0]


def grad(params, X, y, lam=0.0, activation="sigmoid"):
    """The gradient of J~ from `jax.grad`. Args as `manual_grad.grad`."""
    return value_and_grad(params, X, y, lam, activation)[1]


def stages(params, X, y, activation="sigmoid"):
    """δ_l = ∂J/∂z_l for l = L+1..2 by autodiff ("delta3", "delta2" for two layers). Args as `manual_grad.stages`."""
    params, X, y, _, activations = check_loss_inputs(params, X, y, 0.0, activation)
    N = X.shape[0]
    widths = [params[f"W{l}"].shape[1] for l in range(1, len(activations) + 2)]
    with jax.enable_x64(True):
        deltas = _padded_stages(*_padded_problem(params, X, y, activations), _codes(activations))
        return {f"delta{l}": np.asarray(deltas[f"delta{l}"])[:N, :w]
                for l, w in reversed(list(enumerate(widths, start=2)))}
