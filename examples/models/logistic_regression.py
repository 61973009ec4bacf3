"""Binary logistic regression with a 0-d bias, and its gradient: gradcheck's loss mode.

params: w (D,), b () a 0-d array; data: X (N, D), t (N,) of ±1.
J = (1/N) Σ_i log(1 + exp(−t_i (x_i·w + b))).
"""

import numpy as np


def loss(params, X, t):
    z = X @ params["w"] + params["b"]
    return np.mean(np.logaddexp(0, -t * z))


def grad(params, X, t):
    z = X @ params["w"] + params["b"]
    dz = -t / (1 + np.exp(t * z)) / X.shape[0]  # ∂J/∂z = −t σ(−t z) / N
    return {"w": X.T @ dz, "b": np.sum(dz)}


def sample(rng):
    N, D = int(rng.integers(1, 40)), int(rng.integers(1, 20))
    params = {"w": rng.standard_normal(D), "b": np.array(rng.standard_normal())}
    return params, (rng.standard_normal((N, D)), rng.choice([-1.0, 1.0], N))
