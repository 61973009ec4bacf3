"""A three-layer perceptron with tanh hidden layers and a mean squared error: gradcheck's loss mode.

params: W1 (D, H1), b1, W2 (H1, H2), b2, W3 (H2, M), b3; data: X (N, D), Y (N, M).
J = mean over the N × M entries of (f(X) − Y)², f(X) = tanh(tanh(X W1 + b1) W2 + b2) W3 + b3.
"""

import numpy as np


def forward(params, X):
    a1 = np.tanh(X @ params["W1"] + params["b1"])
    a2 = np.tanh(a1 @ params["W2"] + params["b2"])
    return a1, a2, a2 @ params["W3"] + params["b3"]


def loss(params, X, Y):
    return np.mean((forward(params, X)[2] - Y) ** 2)


def grad(params, X, Y):
    a1, a2, out = forward(params, X)
    d_out = 2 * (out - Y) / out.size  # ∂J/∂out of the mean of squares
    d2 = (d_out @ params["W3"].T) * (1 - a2**2)
    d1 = (d2 @ params["W2"].T) * (1 - a1**2)
    return {"W1": X.T @ d1, "b1": d1.sum(axis=0), "W2": a1.T @ d2, "b2": d2.sum(axis=0),
            "W3": a2.T @ d_out, "b3": d_out.sum(axis=0)}


def sample(rng):
    N = int(rng.integers(1, 20))
    D, H1, H2, M = (int(n) for n in rng.choice(np.arange(1, 16), 4, replace=False))
    shapes = {"W1": (D, H1), "b1": (H1,), "W2": (H1, H2), "b2": (H2,), "W3": (H2, M), "b3": (M,)}
    params = {k: rng.standard_normal(s) / np.sqrt(s[0] if len(s) == 2 else 1) for k, s in shapes.items()}
    return params, (rng.standard_normal((N, D)), rng.standard_normal((N, M)))
