"""Seed erratum: ∂J/∂W1's last line writes ψ(z²) − Δ, the softmax of z2, taken literally.

Every earlier line of that derivation has ψ(z³). ψ(z²) is (N, H) and Δ is
(N, K), so the literal formula cannot even be evaluated unless H = K.
"""

import numpy as np

from learner_forward import PHI_PRIME, forward, one_hot


def grad(params, X, y, lam, activation):
    N, K = X.shape[0], params["W2"].shape[1]
    z2, a2, a3 = forward(params, X, activation)
    Delta = one_hot(y, K, X.dtype)
    delta3 = (a3 - Delta) / N
    e = np.exp(z2 - z2.max(axis=1, keepdims=True))
    psi_z2 = e / e.sum(axis=1, keepdims=True)
    delta2 = (((psi_z2 - Delta) / N) @ params["W2"].T) * PHI_PRIME[activation](z2)  # ψ(z²) where ψ(z³) belongs
    return {
        "W1": X.T @ delta2 + 2 * lam * params["W1"],
        "b1": (delta3 @ params["W2"].T * PHI_PRIME[activation](z2)).sum(axis=0),
        "W2": a2.T @ delta3 + 2 * lam * params["W2"],
        "b2": delta3.sum(axis=0),
    }
