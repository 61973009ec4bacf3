"""Seed erratum: the per-example formulas taken as batch formulas, with no sum over examples.

The page's ∂J/∂b2 = (1/N)(ψ(z³) − Δ) is one example's term; the gradient sums
it over the N examples. Transcribed literally, ∂J/∂b2 has shape (N, K).
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
        "W2": a2.T @ delta3 + 2 * lam * params["W2"],
        "b2": delta3,  # (1/N)(ψ(z³) − Δ), as written: the Σ_i is missing
    }
