"""The derivation of `model._backward`, computed in place: the same equations, fewer passes over memory.

`model._backward` is the derivation as written on paper, one line per
equation; this is the same arithmetic arranged for speed, and the tests hold it
to the readable version. What changes:

- Two (N, H) arrays live in the backward pass, no more: the buffer that holds
  z2 is turned into a2 in place and, once ∂J/∂W2 no longer needs a2, into
  φ'(z2); the other holds δ2. X is only read.
- Elementwise work on (N, H) arrays runs on row blocks in a thread per core:
  NumPy releases the GIL inside ufunc loops, and outside the matrix products
  (which BLAS already spreads over the cores) one core would do all of it.
- δ3 = (a3 − Δ) / N is formed by subtracting 1 at [i, y_i], not by building Δ.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

_WORKERS = os.cpu_count() or 1
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


# φ in place: z2 becomes a2.
ACTIVATE = {
    "sigmoid": _sigmoid_,
    "tanh": lambda z: np.tanh(z, out=z),
    "relu": lambda z: np.maximum(z, 0, out=z),
}


def _sigmoid_prime_(delta2, a2):
    delta2 *= a2  # δ2 ⊙ a
    np.subtract(1, a2, out=a2)
    delta2 *= a2  # ⊙ (1 − a)


def _tanh_prime_(delta2, a2):
    np.multiply(a2, a2, out=a2)
    np.subtract(1, a2, out=a2)
    delta2 *= a2  # ⊙ (1 − a²)


def _relu_prime_(delta2, a2):
    np.greater(a2, 0, out=a2)  # 1.0 where z2 > 0, else 0.0
    delta2 *= a2


# δ2 ⊙= φ'(z2), written through a2 = φ(z2), which it overwrites.
TIMES_PHI_PRIME = {"sigmoid": _sigmoid_prime_, "tanh": _tanh_prime_, "relu": _relu_prime_}


def value_and_grad(params, X, y, lam, activation):
    """(J~, grads) for checked inputs; see `model._backward` for the derivation."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    N = X.shape[0]
    rows = np.arange(N)

    a2 = X @ W1  # z2 without b1, (N, H): the first (N, H) buffer

    def activate(block):
        block += b1  # z2 = X W1 + b1
        ACTIVATE[activation](block)  # a2 = φ(z2)

    _by_rows(activate, a2)
    z3 = a2 @ W2
    z3 += b2  # z3 = a2 W2 + b2, (N, K)

    log_a3 = z3
    log_a3 -= z3.max(axis=1, keepdims=True)  # max-shifted: log-softmax is shift-invariant
    log_a3 -= np.log(np.exp(log_a3).sum(axis=1, keepdims=True))
    J = -np.mean(log_a3[rows, y]) + lam * (np.vdot(W1, W1) + np.vdot(W2, W2))

    delta3 = np.exp(log_a3)  # a3 = exp(log a3), as the derivation writes it
    delta3[rows, y] -= 1  # a3 − Δ
    delta3 /= N  # δ3 = (a3 − Δ) / N
    dW2 = a2.T @ delta3  # a2ᵀ δ3
    db2 = delta3.sum(axis=0)

    delta2 = delta3 @ W2.T  # the second (N, H) buffer
    _by_rows(TIMES_PHI_PRIME[activation], delta2, a2)  # δ2 = (δ3 W2ᵀ) ⊙ φ'(z2)
    dW1 = X.T @ delta2  # Xᵀ δ2
    db1 = delta2.sum(axis=0)

    dW1 += 2 * lam * W1
    dW2 += 2 * lam * W2
    return J, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
