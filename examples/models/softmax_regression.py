"""Softmax regression, its loss and its gradient derived by hand: gradcheck's loss mode.

    gradcheck examples/models/softmax_regression.py:grad \
        --loss examples/models/softmax_regression.py:loss --sample examples/models/softmax_regression.py:sample

params: W (D, K), b (K,); data: X (N, D), y (N,) labels in [0, K), λ >= 0.
J = (1/N) Σ_i −log softmax(X W + b)[i, y_i] + λ ‖W‖².
"""

import numpy as np


def probabilities(params, X):
    scores = X @ params["W"] + params["b"]
    scores = scores - scores.max(axis=1, keepdims=True)  # the softmax is unchanged by a shift
    e = np.exp(scores)
    return e / e.sum(axis=1, keepdims=True)


def loss(params, X, y, lam):
    p = probabilities(params, X)
    return -np.mean(np.log(p[np.arange(X.shape[0]), y])) + lam * np.sum(params["W"] ** 2)


def grad(params, X, y, lam):
    N = X.shape[0]
    delta = probabilities(params, X)
    delta[np.arange(N), y] -= 1  # p − one-hot(y)
    delta /= N  # ∂J/∂scores
    return {"W": X.T @ delta + 2 * lam * params["W"], "b": delta.sum(axis=0)}


def sample(rng):
    """One random case: every shape drawn anew, D ≠ K so that a transposed W cannot pass."""
    N = int(rng.integers(1, 30))
    D, K = (int(n) for n in rng.choice(np.arange(2, 20), 2, replace=False))
    params = {"W": rng.standard_normal((D, K)) / np.sqrt(D), "b": rng.standard_normal(K)}
    data = (rng.standard_normal((N, D)), rng.integers(0, K, N), float(rng.choice([0.0, 0.1])))
    return params, data
