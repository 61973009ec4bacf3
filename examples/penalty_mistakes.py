"""A learner who differentiates λ‖W‖² as λW, and regularises the biases too (J~ leaves them out)."""

from learner_forward import PHI_PRIME, forward, one_hot


def grad(params, X, y, lam, activation):
    N = X.shape[0]
    z2, a2, a3 = forward(params, X, activation)
    delta3 = (a3 - one_hot(y, params["W2"].shape[1], X.dtype)) / N
    delta2 = (delta3 @ params["W2"].T) * PHI_PRIME[activation](z2)
    return {
        "W1": X.T @ delta2 + lam * params["W1"],  # should be + 2λ W1
        "b1": delta2.sum(axis=0) + lam * params["b1"],  # should have no penalty
        "W2": a2.T @ delta3 + lam * params["W2"],
        "b2": delta3.sum(axis=0) + lam * params["b2"],
    }
