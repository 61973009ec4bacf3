"""Seed erratum: ∂J/∂W1's last line writes ψ(z²) − Δ, the softmax of z2, taken literally.

Every earlier line of that derivation has ψ(z³). ψ(z²) is (N, H) and Δ is
(N, K), so the literal formula cannot even be evaluated unless H = K.
"""

import numpy as np

from learner import PHI_PRIME, backward, delta3, one_hot


def grad(params, X, y, lam, activation):
    z2, a2, d3 = delta3(params, X, y, activation)
    e = np.exp(z2 - z2.max(axis=1, keepdims=True))
    psi_z2 = e / e.sum(axis=1, keepdims=True)
    Delta = one_hot(y, params["W2"].shape[1], X.dtype)
    delta2 = (((psi_z2 - Delta) / X.shape[0]) @ params["W2"].T) * PHI_PRIME[activation](z2)  # ψ(z²) for ψ(z³)
    return {**backward(params, X, z2, a2, d3, lam, activation), "W1": X.T @ delta2 + 2 * lam * params["W1"]}
