"""A learner who differentiates the summed loss Σ_i −log a3[i, y_i] instead of its mean: δ3 lacks its 1/N."""

from learner import backward, forward, one_hot


def grad(params, X, y, lam, activation):
    z2, a2, a3 = forward(params, X, activation)
    delta3 = a3 - one_hot(y, params["W2"].shape[1], X.dtype)  # should be (a3 − Δ) / N
    return backward(params, X, z2, a2, delta3, lam, activation)
