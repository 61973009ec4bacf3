"""Seed erratum: ∂J/∂a³ = −(1/N)(1/a³), without Δ, carried through the softmax Jacobian.

J depends on a3 only through a3[i, y_i], so ∂J/∂a3 = −(1/N) Δ / a3: zero off
the true class. The page's −(1/N)(1/a³) puts 1/a3 on every class. Multiplied
by the exact softmax Jacobian ∂a3_k/∂z3_j = a3_k (δ_kj − a3_j), it gives
−(1/N)(1 − K a3) instead of (a3 − Δ)/N. (The page itself then switches to the
two-case argument and reaches the right δ3, so its final result is unharmed.)
"""

from learner import backward, forward


def grad(params, X, y, lam, activation):
    z2, a2, a3 = forward(params, X, activation)
    dJ_da3 = -(1 / X.shape[0]) / a3  # should be −(1/N) Δ / a3
    delta3 = a3 * (dJ_da3 - (dJ_da3 * a3).sum(axis=1, keepdims=True))  # through the softmax Jacobian
    return backward(params, X, z2, a2, delta3, lam, activation)
