"""A learner whose recursion takes φ' one layer too high: δ_l = (δ_{l+1} W_lᵀ) ⊙ φ'(z_{l+1}).

z_{l+1} has the width of layer l + 1, not of layer l, so wherever two
neighbouring widths differ the product cannot even be evaluated; NumPy's
broadcast error names two shapes, and gradcheck names the layers they belong to.
"""

from deep_learner import backward
from learner import PHI_PRIME


def grad(params, X, y, lam, activation):
    def step(l, delta, z, a, phi):
        return (delta @ params[f"W{l}"].T) * PHI_PRIME[phi[l]](z[l + 1])  # should be z[l]

    return backward(params, X, y, lam, activation, step)
