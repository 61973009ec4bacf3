"""The derivation of `model._backward` (and `deep.backward`), computed in place: the same equations,
fewer passes over memory.

`model._backward` is the derivation as written on paper, one line per
equation; this is the same arithmetic arranged for speed, and the tests hold it
to the readable version. What changes:

- The forward pass keeps one array per hidden layer, a_l, turned from z_l into
  a_l in place. The backward pass turns each a_l into φ'(z_l) in place once
  ∂J/∂W_l no longer needs it, and holds at most two δ arrays at a time. X is
  only read. For two layers: two (N, H) arrays, a2 and δ2.
- Elementwise work on (N, H) arrays runs on row blocks in a thread per core:
  NumPy releases the GIL inside ufunc loops, and outside the matrix products
  (which BLAS already spreads over the cores) one core would do all of it.
- δ_{L+1} = (a_{L+1} − Δ) / N is formed by subtracting 1 at [i, y_i], not by building Δ.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .activations import LEAKY_SLOPE

_WORKERS = os.cpu_count() or 1
# One (rows, widest layer) block of the forward and backward passes fits in this many bytes.
BLOCK_BYTES = 8 << 20
# Below this many elements a thread hand-off costs more than the work it shares.
_PARALLEL_MIN = 1 << 16
_pools = {}


def _pool():
    # One pool per process: a forked child inherits the pool but not its threads.
    pid = os.getpid()
    if pid not in _pools:
        _pools.clear()
        _pools[pid] = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="manual_grad")
    return _pools[pid]


def _by_rows(function, *arrays):
    """function(*blocks) over matching row blocks of arrays with N rows, one block per core."""
    N = arrays[0].shape[0]
    if _WORKERS == 1 or arrays[0].size < _PARALLEL_MIN:
        function(*arrays)
        return
    edges = np.linspace(0, N, _WORKERS + 1).astype(int)
    blocks = [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]
    for _ in _pool().map(lambda rows: function(*(array[rows] for array in arrays)), blocks):
        pass


def _sigmoid_(z):
    # 1 / (1 + e^−z); e^−z overflows to inf for z < −709 and 1 / inf = 0 is the right limit.
    np.negative(z, out=z)
    with np.errstate(over="ignore"):
        np.exp(z, out=z)
    z += 1
    np.reciprocal(z, out=z)


def _leaky_relu_(z):
    np.multiply(z, LEAKY_SLOPE, out=z, where=z < 0)


# φ in place: z becomes a.
ACTIVATE = {
    "sigmoid": _sigmoid_,
    "tanh": lambda z: np.tanh(z, out=z),
    "relu": lambda z: np.maximum(z, 0, out=z),
    "leaky_relu": _leaky_relu_,
    "softplus": lambda z: np.logaddexp(z, 0, out=z),
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
    np.multiply(delta, LEAKY_SLOPE, out=delta, where=a < 0)  # 1 where z >= 0, as jax.nn.leaky_relu


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
        a[l + 1] = a[l] @ W[l]  # z_{l+1} without b_l: the buffer that becomes a_{l+1}

        def activate(block, l=l):
            block += b[l]  # z_{l+1} = a_l W_l + b_l
            ACTIVATE[activations[l - 1]](block)  # a_{l+1} = φ(z_{l+1})

        _by_rows(activate, a[l + 1])
    z_out = a[L] @ W[L]
    z_out += b[L]  # z_{L+1}, (rows, K)

    log_a = z_out
    log_a -= z_out.max(axis=1, keepdims=True)  # max-shifted: log-softmax is shift-invariant
    log_a -= np.log(np.exp(log_a).sum(axis=1, keepdims=True))
    nll = -float(np.sum(log_a[rows, y], dtype=np.float64))

    delta = np.exp(log_a)  # a_{L+1} = exp(log a_{L+1}), as the derivation writes it
    delta[rows, y] -= 1  # a_{L+1} − Δ
    delta /= N  # δ_{L+1} = (a_{L+1} − Δ) / N, N the whole batch's
    for l in range(L, 0, -1):
        _add(grads, f"W{l}", a[l].T @ delta)  # a_lᵀ δ_{l+1}
        _add(grads, f"b{l}", delta.sum(axis=0))
        if l > 1:
            delta = delta @ W[l].T  # a new buffer; δ_{l+1}'s is freed
            _by_rows(TIMES_PHI_PRIME[activations[l - 2]], delta, a.pop(l))  # δ_l = (δ_{l+1} W_lᵀ) ⊙ φ'(z_l)
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
