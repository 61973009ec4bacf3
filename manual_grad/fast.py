"""The derivation of `model._backward` (and `deep.backward`), computed in place: the same equations,
fewer passes over memory.

`model._backward` is the derivation as written on paper, one line per
equation; this is the same arithmetic arranged for speed, and the tests hold it
to the readable version. What changes:

- X is taken a block of rows at a time, and each block's gradients are added
  up: the working memory is a few (rows, width) arrays whatever N is, and X,
  which is only read, may be a np.memmap larger than memory.
- Within a block, the forward pass keeps one array per hidden layer, a_l,
  turned from z_l into a_l in place; the backward pass turns each a_l into
  φ'(z_l) in place once ∂J/∂W_l no longer needs it, and holds at most two δ
  arrays at a time. For two layers: two (rows, H) arrays, a2 and δ2.
- The softmax is exponentiated once: e = exp(z − max z), J from log Σ e and
  the logit of the true class, δ_{L+1} = e / Σ e with 1 subtracted at
  [i, y_i] (no Δ is built) and divided by N.
- The elementwise work runs on one thread: spread over the cores beside
  OpenBLAS's threads, it measured no faster, at the MNIST-like and large
  shapes, with NumPy's AVX-512 loops and with them disabled.
"""

import numpy as np

from .activations import LEAKY_SLOPE

# One (rows, widest layer) block of the forward and backward passes fits in this many bytes.
BLOCK_BYTES = 8 << 20


def _sigmoid_(z):
    # 1 / (1 + e^−z); e^−z overflows to inf for z < −709 and 1 / inf = 0 is the right limit.
    np.negative(z, out=z)
    with np.errstate(over="ignore"):
        np.exp(z, out=z)
    z += 1
    np.reciprocal(z, out=z)


def _leaky_relu_(z):
    # max(z, slope·z) for slope < 1; ten times faster than a masked multiply (where=z < 0).
    np.maximum(z, LEAKY_SLOPE * z, out=z)


def _softplus_(z):
    # log(1 + e^z) = max(z, 0) + log(1 + e^−|z|), stable for any z; ten times faster than np.logaddexp.
    positive = np.maximum(z, 0)
    np.abs(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    np.log1p(z, out=z)
    z += positive


# φ in place: z becomes a.
ACTIVATE = {
    "sigmoid": _sigmoid_,
    "tanh": lambda z: np.tanh(z, out=z),
    "relu": lambda z: np.maximum(z, 0, out=z),
    "leaky_relu": _leaky_relu_,
    "softplus": _softplus_,
}


def _sigmoid_prime_(delta, a):
    delta *= a  # δ ⊙ a
    np.subtract(1, a, out=a)
    delta *= a  # ⊙ (1 − a)


def _tanh_prime_(delta, a):
    np.multiply(a, a, out=a)
    np.subtract(1, a, out=a)
    delta *= a  # ⊙ (1 − a²)


def _relu_prime_(delta, a):
    np.greater(a, 0, out=a)  # 1.0 where z > 0, else 0.0
    delta *= a


def _leaky_relu_prime_(delta, a):
    np.less(a, 0, out=a)  # 1.0 where z < 0, else 0.0 (z >= 0 has slope 1, as jax.nn.leaky_relu)
    a *= LEAKY_SLOPE - 1
    a += 1  # slope where z < 0, 1 elsewhere
    delta *= a


def _softplus_prime_(delta, a):
    np.negative(a, out=a)
    np.expm1(a, out=a)
    np.negative(a, out=a)  # 1 − e^−a = sigmoid(z)
    delta *= a


# δ ⊙= φ'(z), written through a = φ(z), which it may overwrite.
TIMES_PHI_PRIME = {"sigmoid": _sigmoid_prime_, "tanh": _tanh_prime_, "relu": _relu_prime_,
                   "leaky_relu": _leaky_relu_prime_, "softplus": _softplus_prime_}


def block_rows(params, X, budget=None):
    """Rows per block: as many as keep one (rows, widest layer) array within `budget` bytes (BLOCK_BYTES)."""
    widest = max(w.shape[1] for name, w in params.items() if name.startswith("W"))
    return max(1, (budget or BLOCK_BYTES) // (widest * X.dtype.itemsize))


def _block(W, b, X, y, N, activations, grads):
    """One block of rows: its share of N·J (without the penalty), its gradients added into `grads`."""
    L, rows = len(W), np.arange(X.shape[0])
    a = {1: X}
    for l in range(1, L):
        z = a[l] @ W[l]
        z += b[l]  # z_{l+1} = a_l W_l + b_l
        ACTIVATE[activations[l - 1]](z)  # a_{l+1} = φ(z_{l+1}), in place
        a[l + 1] = z
    z = a[L] @ W[L]
    z += b[L]  # z_{L+1}, (rows, K)

    z -= z.max(axis=1, keepdims=True)  # max-shifted: the softmax is shift-invariant
    true_class = z[rows, y]
    e = np.exp(z, out=z)
    total = e.sum(axis=1)
    nll = float(np.sum(np.log(total) - true_class, dtype=np.float64))  # Σ_i −log a_{L+1}[i, y_i]

    delta = e
    delta /= total[:, None]  # a_{L+1}
    delta[rows, y] -= 1  # a_{L+1} − Δ
    delta /= N  # δ_{L+1} = (a_{L+1} − Δ) / N, N the whole batch's
    for l in range(L, 0, -1):
        _add(grads, f"W{l}", a[l].T @ delta)  # a_lᵀ δ_{l+1}
        _add(grads, f"b{l}", delta.sum(axis=0))
        if l > 1:
            delta = delta @ W[l].T  # a new buffer; δ_{l+1}'s is freed
            TIMES_PHI_PRIME[activations[l - 2]](delta, a.pop(l))  # δ_l = (δ_{l+1} W_lᵀ) ⊙ φ'(z_l)
    return nll


def _add(grads, name, term):
    if name in grads:
        grads[name] += term
    else:
        grads[name] = term


def value_and_grad(params, X, y, lam, activations, rows=None):
    """(J~, grads) for checked inputs; see `model._backward` and `deep.backward` for the derivation.

    X is taken `rows` rows at a time (default `block_rows`), the gradients summed over the blocks, so that
    the working memory is a few (rows, widest layer) arrays whatever N is: X may be a np.memmap larger
    than memory.
    """
    L, N = len(activations) + 1, X.shape[0]
    W = {l: params[f"W{l}"] for l in range(1, L + 1)}
    b = {l: params[f"b{l}"] for l in range(1, L + 1)}
    rows = rows or block_rows(params, X)
    grads, nll = {}, 0.0
    for start in range(0, N, rows):
        nll += _block(W, b, X[start:start + rows], y[start:start + rows], N, activations, grads)
    for l in range(1, L + 1):
        grads[f"W{l}"] += 2 * lam * W[l]
    J = X.dtype.type(nll / N) + lam * sum(np.vdot(w, w) for w in W.values())
    return J, {name: grads[name] for name in params}
