"""A learner who writes φ(z3) for φ'(z3) in one step of the recursion, δ3 = (δ4 W3ᵀ) ⊙ φ'(z3).

For a network of four layers or more; every other step is right.
"""

from deep_learner import backward
from learner import PHI, PHI_PRIME


def grad(params, X, y, lam, activation):
    def step(l, delta, z, a, phi):
        derivative = PHI[phi[l]] if l == 3 else PHI_PRIME[phi[l]]  # should be PHI_PRIME at every layer
        return (delta @ params[f"W{l}"].T) * derivative(z[l])

    return backward(params, X, y, lam, activation, step)
