"""Seed erratum: the per-example formulas taken as batch formulas, with no sum over examples.

The page's ∂J/∂b2 = (1/N)(ψ(z³) − Δ) is one example's term; the gradient sums
it over the N examples. Transcribed literally, ∂J/∂b2 has shape (N, K).
"""

from learner import backward, delta3


def grad(params, X, y, lam, activation):
    z2, a2, d3 = delta3(params, X, y, activation)
    # (1/N)(ψ(z³) − Δ), as written: the Σ_i is missing
    return {**backward(params, X, z2, a2, d3, lam, activation), "b2": d3}
