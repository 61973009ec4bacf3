"""Known slips of the derivation, computed exactly, to name a wrong gradient by what it matches.

Each slip is a wrong δ_{L+1} (at the softmax) or a wrong step of the recursion
δ_l = (δ_{l+1} W_lᵀ) ⊙ φ'(z_l) at one layer, carried through an otherwise
correct backward pass, in float64. A slip's gradients are cached on the case
result: every parameter's diagnosis asks for them.
"""

import numpy as np

import jax_reference as jr
from manual_grad.activations import TABLE
from manual_grad.deep import forward


def _cached(r, key, compute):
    cache = r.arrays.setdefault("slips", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def _softmax(z, axis):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _network(r):
    """(params, {l: a_l}, z_{L+1}) of the case, in float64."""
    params = {k: v.astype(np.float64) for k, v in r.arrays["params"].items()}
    a, z = forward(params, r.arrays["X"].astype(np.float64), r.case.activations)
    return params, a, z


def _gradients(r, params, a, delta, slip_at=None, slip=None):
    """The recursion from δ_{L+1} = delta; at layer `slip_at`, δ_l = slip(δ_{l+1} W_lᵀ, a_l) instead."""
    L, lam, grads = len(params) // 2, r.case.lam, {}
    for l in range(L, 0, -1):
        grads[f"W{l}"] = a[l].T @ delta + 2 * lam * params[f"W{l}"]
        grads[f"b{l}"] = delta.sum(axis=0)
        if l > 1:
            back = delta @ params[f"W{l}"].T
            delta = slip(back, a[l]) if l == slip_at else back * TABLE[r.case.activations[l - 2]][1](a[l])
    return grads


def _right_delta(r, z):
    return (_softmax(z, 1) - np.eye(z.shape[1])[r.arrays["y"]]) / z.shape[0]


def top_slips(r):
    """{words: gradients} for a wrong δ_{L+1} at the softmax, the rest of the derivation right."""
    def compute():
        params, a, z = _network(r)
        N, K = z.shape
        Delta = np.eye(K)[r.arrays["y"]]
        wrong = {
            "a softmax normalised over the N examples of each class (a sum over the batch) where it runs over "
            "the K classes of each row": (_softmax(z, 0) - Delta) / N,
            f"∂J/∂a{len(params) // 2 + 1} = −(1/N)/a{len(params) // 2 + 1} with the Δ left out, carried through "
            "the softmax Jacobian": (K * _softmax(z, 1) - 1) / N,
        }
        return {words: _gradients(r, params, a, delta) for words, delta in wrong.items()}

    return _cached(r, "top", compute)


def layer_slips(r):
    """{words: gradients} for two common slips in δ_l = (δ_{l+1} W_lᵀ) ⊙ φ'(z_l), at each hidden layer l."""
    def compute():
        params, a, z = _network(r)
        delta = _right_delta(r, z)
        slips = {}
        for l in range(2, len(params) // 2 + 1):
            step = f"δ{l} = (δ{l + 1} W{l}ᵀ) ⊙ φ'(z{l})"
            slips[f"φ(z{l}) where φ'(z{l}) belongs in {step}"] = _gradients(
                r, params, a, delta, l, lambda back, a_l: back * a_l)
            slips[f"φ'(z{l}) left out of {step}"] = _gradients(r, params, a, delta, l, lambda back, a_l: back)
        return slips

    return _cached(r, "layers", compute)


def one_activation(r):
    """{activation: the reference gradients of this case's network with that activation at every hidden layer}."""
    def compute():
        a = r.arrays
        return {name: {k: np.asarray(v, np.float64) for k, v in
                       jr.grad(a["params"], a["X"], a["y"], r.case.lam, name).items()}
                for name in TABLE if set(r.case.activations) != {name}}

    return _cached(r, "activations", compute)
