"""Seed erratum: ∂J/∂a³ = −(1/N)(1/a³), without Δ, carried through the softmax Jacobian.

J depends on a3 only through a3[i, y_i], so ∂J/∂a3 = −(1/N) Δ / a3: zero off
the true class. The page's −(1/N)(1/a³) puts 1/a3 on every class. Multiplied
by the exact softmax Jacobian ∂a3_k/∂z3_j = a3_k (δ_kj − a3_j), it gives
−(1/N)(1 − K a3) instead of (a3 − Δ)/N. (The page itself then switches to the
two-case argument and reaches the right δ3, so its final result is unharmed.)
"""

from learner_forward import PHI_PRIME, forward


def grad(params, X, y, lam, activation):
    N, K = X.shape[0], params["W2"].shape[1]
    z2, a2, a3 = forward(params, X, activation)
    dJ_da3 = -(1 / N) / a3  # should be −(1/N) Δ / a3
    delta3 = a3 * (dJ_da3 - (dJ_da3 * a3).sum(axis=1, keepdims=True))  # ∂J/∂a3 through the softmax Jacobian
    delta2 = (delta3 @ params["W2"].T) * PHI_PRIME[activation](z2)
    return {
        "W1": X.T @ delta2 + 2 * lam * params["W1"],
        "b1": delta2.sum(axis=0),
        "W2": a2.T @ delta3 + 2 * lam * params["W2"],
        "b2": delta3.sum(axis=0),
    }
