"""Known slips of the two-layer derivation, computed exactly, to name a wrong gradient by what it matches.

Each slip is a wrong δ3 or δ2 carried through an otherwise correct backward
pass, in float64. A slip's gradients are cached on the case result: every
parameter's diagnosis asks for them.
"""

import numpy as np

import jax_reference as jr
from manual_grad.activations import TABLE


def _network(r):
    params = {k: v.astype(np.float64) for k, v in r.arrays["params"].items()}
    X = r.arrays["X"].astype(np.float64)
    z2 = X @ params["W1"] + params["b1"]
    a2 = TABLE[r.case.activation][0](z2)
    return params, X, z2, a2, a2 @ params["W2"] + params["b2"]


def _softmax(z, axis):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _backward(r, params, X, a2, delta3, delta2):
    lam = r.case.lam
    return {"W1": X.T @ delta2 + 2 * lam * params["W1"], "b1": delta2.sum(axis=0),
            "W2": a2.T @ delta3 + 2 * lam * params["W2"], "b2": delta3.sum(axis=0)}


def _cached(r, key, compute):
    cache = r.arrays.setdefault("slips", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def delta3_slips(r):
    """{words: gradients} for wrong δ3, the rest of the derivation right."""
    def compute():
        params, X, z2, a2, z3 = _network(r)
        N, K = z3.shape
        Delta = np.eye(K)[r.arrays["y"]]
        phi_prime = TABLE[r.case.activation][1]
        wrong = {
            "a softmax normalised over the N examples of each class (a sum over the batch) where it runs over "
            "the K classes of each row": (_softmax(z3, 0) - Delta) / N,
            "∂J/∂a3 = −(1/N)/a3 with the Δ left out, carried through the softmax Jacobian":
                (K * _softmax(z3, 1) - 1) / N,
        }
        return {words: _backward(r, params, X, a2, d3, (d3 @ params["W2"].T) * phi_prime(a2))
                for words, d3 in wrong.items()}

    return _cached(r, "delta3", compute)


def delta2_slips(r):
    """{words: gradients} for two common slips in δ2 = (δ3 W2ᵀ) ⊙ φ'(z2), the rest right."""
    def compute():
        params, X, z2, a2, z3 = _network(r)
        delta3 = (_softmax(z3, 1) - np.eye(z3.shape[1])[r.arrays["y"]]) / z3.shape[0]
        back = delta3 @ params["W2"].T
        wrong = {
            "φ(z2) where φ'(z2) belongs in δ2 = (δ3 W2ᵀ) ⊙ φ'(z2)": back * a2,
            "φ'(z2) left out of δ2 = (δ3 W2ᵀ) ⊙ φ'(z2)": back,
        }
        return {words: _backward(r, params, X, a2, delta3, d2) for words, d2 in wrong.items()}

    return _cached(r, "delta2", compute)


def other_activations(r):
    """{activation: the reference gradients of this case's network with that activation instead}."""
    def compute():
        a = r.arrays
        return {name: {k: np.asarray(v, np.float64) for k, v in
                       jr.grad(a["params"], a["X"], a["y"], r.case.lam, name).items()}
                for name in TABLE if name != r.case.activation}

    return _cached(r, "activations", compute)
