"""A learner's correct derivation for a network of any depth, shared by the deep example candidates.

Layers are numbered as the seed numbers them: a[1] = X, z[l+1] = a[l] W_l + b_l,
a[l] = φ_l(z[l]) for the hidden layers 2..L, softmax at the top. As learner.py
for two layers, each example candidate makes one mistake and uses these for
everything else.
"""

import numpy as np

from learner import PHI, PHI_PRIME, one_hot


def depth(params):
    return len(params) // 2


def per_layer(activation, L):
    """One activation name per hidden layer 2..L, as a dict keyed by layer."""
    names = [activation] * (L - 1) if isinstance(activation, str) else list(activation)
    return dict(zip(range(2, L + 1), names))


def forward(params, X, activation):
    """z and a for every layer, keyed by layer number, and the softmax a[L+1]."""
    L = depth(params)
    phi = per_layer(activation, L)
    z, a = {}, {1: X}
    for l in range(1, L + 1):
        z[l + 1] = a[l] @ params[f"W{l}"] + params[f"b{l}"]
        if l < L:
            a[l + 1] = PHI[phi[l + 1]](z[l + 1])
    e = np.exp(z[L + 1] - z[L + 1].max(axis=1, keepdims=True))
    a[L + 1] = e / e.sum(axis=1, keepdims=True)
    return z, a


def top_delta(params, X, y, a):
    """δ[L+1] = (a[L+1] − Δ)/N, correctly."""
    L = depth(params)
    return (a[L + 1] - one_hot(y, params[f"W{L}"].shape[1], X.dtype)) / X.shape[0]


def backward(params, X, y, lam, activation, step=None):
    """The gradients of J~ by the recursion; step(l, delta_next, z, a) may replace δ_l's formula."""
    L = depth(params)
    phi = per_layer(activation, L)
    z, a = forward(params, X, activation)
    delta = top_delta(params, X, y, a)
    grads = {}
    for l in range(L, 0, -1):
        grads[f"W{l}"] = a[l].T @ delta + 2 * lam * params[f"W{l}"]
        grads[f"b{l}"] = delta.sum(axis=0)
        if l > 1:
            if step is None:
                delta = (delta @ params[f"W{l}"].T) * PHI_PRIME[phi[l]](z[l])
            else:
                delta = step(l, delta, z, a, phi)
    return grads


def grad(params, X, y, lam, activation):
    return backward(params, X, y, lam, activation)
