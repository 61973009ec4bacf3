"""Seed erratum: ∂J/∂W2 = (1/N)(ψ(z³) − Δ) · a², its transposes dropped, in the order written.

(ψ(z³) − Δ) is (N, K) and a² is (N, H); the only product in the page's order
that fits is δ3ᵀ a2, of shape (K, H): the transpose of a2ᵀ δ3.
"""

from learner import backward, delta3


def grad(params, X, y, lam, activation):
    z2, a2, d3 = delta3(params, X, y, activation)
    W2 = d3.T @ a2 + 2 * lam * params["W2"].T  # (ψ(z³) − Δ) · a²: should be a2ᵀ δ3
    return {**backward(params, X, z2, a2, d3, lam, activation), "W2": W2}
