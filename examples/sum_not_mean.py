"""A learner who differentiates the summed loss Σ_i −log a3[i, y_i] instead of its mean: δ3 lacks its 1/N."""

from learner_forward import PHI_PRIME, forward, one_hot


def grad(params, X, y, lam, activation):
    z2, a2, a3 = forward(params, X, activation)
    delta3 = a3 - one_hot(y, params["W2"].shape[1], X.dtype)  # should be (a3 − Δ) / N
    delta2 = (delta3 @ params["W2"].T) * PHI_PRIME[activation](z2)
    return {
        "W1": X.T @ delta2 + 2 * lam * params["W1"],
        "b1": delta2.sum(axis=0),
        "W2": a2.T @ delta3 + 2 * lam * params["W2"],
        "b2": delta3.sum(axis=0),
    }
