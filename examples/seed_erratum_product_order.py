"""Seed erratum: ∂J/∂W2 = (1/N)(ψ(z³) − Δ) · a², its transposes dropped, in the order written.

(ψ(z³) − Δ) is (N, K) and a² is (N, H); the only product in the page's order
that fits is δ3ᵀ a2, of shape (K, H): the transpose of a2ᵀ δ3.
"""

from learner_forward import PHI_PRIME, forward, one_hot


def grad(params, X, y, lam, activation):
    N = X.shape[0]
    z2, a2, a3 = forward(params, X, activation)
    delta3 = (a3 - one_hot(y, params["W2"].shape[1], X.dtype)) / N
    delta2 = (delta3 @ params["W2"].T) * PHI_PRIME[activation](z2)
    return {
        "W1": X.T @ delta2 + 2 * lam * params["W1"],
        "b1": delta2.sum(axis=0),
        "W2": delta3.T @ a2 + 2 * lam * params["W2"].T,  # (ψ(z³) − Δ) · a²: should be a2ᵀ δ3
        "b2": delta3.sum(axis=0),
    }
