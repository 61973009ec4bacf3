"""A learner's correct forward pass and backward pass, shared by the example candidates.

Each example candidate makes one mistake and uses these for everything else,
so that what gradcheck reports for it is that mistake's effect alone.
gradcheck loads a candidate file with its folder on sys.path, so a candidate
can import this module as a script would.
"""

import numpy as np

PHI = {
    "sigmoid": lambda z: 1 / (1 + np.exp(-np.clip(z, -500, 500))),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
    "leaky_relu": lambda z: np.where(z >= 0, z, 0.01 * z),
    "softplus": lambda z: np.logaddexp(z, 0),
}
PHI_PRIME = {  # as functions of z
    "sigmoid": lambda z: PHI["sigmoid"](z) * (1 - PHI["sigmoid"](z)),
    "tanh": lambda z: 1 - np.tanh(z) ** 2,
    "relu": lambda z: (z > 0).astype(z.dtype),
    "leaky_relu": lambda z: np.where(z >= 0, 1, 0.01).astype(z.dtype),
    "softplus": lambda z: PHI["sigmoid"](z),
}


def forward(params, X, activation):
    """z2 (N, H), a2 (N, H), a3 = softmax(z3) (N, K)."""
    z2 = X @ params["W1"] + params["b1"]
    a2 = PHI[activation](z2)
    z3 = a2 @ params["W2"] + params["b2"]
    e = np.exp(z3 - z3.max(axis=1, keepdims=True))
    return z2, a2, e / e.sum(axis=1, keepdims=True)


def one_hot(y, K, dtype):
    return np.eye(K, dtype=dtype)[y]


def backward(params, X, z2, a2, delta3, lam, activation):
    """The four gradients of J~ from δ3 = ∂J/∂z3, correctly."""
    delta2 = (delta3 @ params["W2"].T) * PHI_PRIME[activation](z2)
    return {
        "W1": X.T @ delta2 + 2 * lam * params["W1"],
        "b1": delta2.sum(axis=0),
        "W2": a2.T @ delta3 + 2 * lam * params["W2"],
        "b2": delta3.sum(axis=0),
    }


def delta3(params, X, y, activation):
    """(z2, a2, δ3 = (a3 − Δ)/N), correctly."""
    z2, a2, a3 = forward(params, X, activation)
    return z2, a2, (a3 - one_hot(y, params["W2"].shape[1], X.dtype)) / X.shape[0]
