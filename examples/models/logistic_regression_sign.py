"""Logistic regression's gradient with a typical mistake: ∂J/∂z written without its minus sign."""

import numpy as np


def grad(params, X, t):
    z = X @ params["w"] + params["b"]
    dz = t / (1 + np.exp(t * z)) / X.shape[0]  # should be −t σ(−t z) / N
    return {"w": X.T @ dz, "b": np.sum(dz)}
