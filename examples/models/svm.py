"""A multiclass SVM (hinge) loss, vectorised as in course assignments, and its gradient: gradcheck's loss mode.

params: W (D, K); data: X (N, D), y (N,), λ. The margins of the true class are
zeroed by an in-place write, which gradcheck rewrites for jax.numpy.
J = (1/N) Σ_i Σ_{j ≠ y_i} max(0, s_ij − s_iy_i + 1) + λ ‖W‖², s = X W.
"""

import numpy as np


def margins(params, X, y):
    scores = X @ params["W"]
    correct = scores[np.arange(X.shape[0]), y][:, None]
    m = np.maximum(0, scores - correct + 1)
    m[np.arange(X.shape[0]), y] = 0  # the true class has no margin
    return m


def loss(params, X, y, lam):
    return margins(params, X, y).sum() / X.shape[0] + lam * np.sum(params["W"] ** 2)


def grad(params, X, y, lam):
    N = X.shape[0]
    counts = (margins(params, X, y) > 0).astype(X.dtype)
    counts[np.arange(N), y] = -counts.sum(axis=1)  # the true class's score enters every positive margin
    return {"W": X.T @ counts / N + 2 * lam * params["W"]}


def sample(rng):
    N = int(rng.integers(1, 30))
    D, K = (int(n) for n in rng.choice(np.arange(2, 20), 2, replace=False))
    params = {"W": rng.standard_normal((D, K)) * 0.1}
    return params, (rng.standard_normal((N, D)), rng.integers(0, K, N), float(rng.choice([0.0, 0.05])))
