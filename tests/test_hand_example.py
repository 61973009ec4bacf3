"""One tiny network whose loss and gradients were worked out by hand.

N = 2, D = 1, H = 1, K = 2, relu, X = [[1], [−1]], y = [1, 0],
W1 = [[1]], b1 = [0], W2 = [[0, ln 3]], b2 = [0, 0]. By hand:

    z2 = [[1], [−1]]          a2 = [[1], [0]]           φ'(z2) = [[1], [0]]
    z3 = [[0, ln 3], [0, 0]]  a3 = [[1/4, 3/4], [1/2, 1/2]]
    J  = (−ln(3/4) − ln(1/2)) / 2 = ln(8/3) / 2
    δ3 = (a3 − Δ) / N = [[1/8, −1/8], [−1/4, 1/4]]
    ∂J/∂W2 = a2ᵀ δ3 = [[1/8, −1/8]]          ∂J/∂b2 = [−1/8, 1/8]
    δ2 = (δ3 W2ᵀ) ⊙ φ'(z2) = [[−ln3/8], [ln3/4 · 0]] = [[−ln3/8], [0]]
    ∂J/∂W1 = Xᵀ δ2 = [[−ln3/8]]              ∂J/∂b1 = [−ln3/8]

With λ = 1/2: J~ = J + (1/2)(1 + ln²3), ∂J~/∂W1 = ∂J/∂W1 + W1, ∂J~/∂W2 = ∂J/∂W2 + W2.
"""

import math

import numpy as np
import pytest

import jax_reference as jr
import manual_grad as mg
from jax_reference.tolerances import tolerance

TOL = tolerance(np.float64)

LN3 = math.log(3)
PARAMS = {"W1": np.array([[1.0]]), "b1": np.array([0.0]), "W2": np.array([[0.0, LN3]]), "b2": np.array([0.0, 0.0])}
X = np.array([[1.0], [-1.0]])
Y = np.array([1, 0])

J_BY_HAND = math.log(8 / 3) / 2
GRAD_BY_HAND = {
    "W1": np.array([[-LN3 / 8]]),
    "b1": np.array([-LN3 / 8]),
    "W2": np.array([[1 / 8, -1 / 8]]),
    "b2": np.array([-1 / 8, 1 / 8]),
}


@pytest.mark.parametrize("module", [mg, jr], ids=["manual_grad", "jax_reference"])
def test_J_by_hand(module):
    J, g = module.value_and_grad(PARAMS, X, Y, 0.0, "relu")
    assert J == pytest.approx(J_BY_HAND, rel=TOL.rtol)
    for name, expected in GRAD_BY_HAND.items():
        np.testing.assert_allclose(g[name], expected, rtol=TOL.rtol, atol=TOL.atol, err_msg=name)


@pytest.mark.parametrize("module", [mg, jr], ids=["manual_grad", "jax_reference"])
def test_J_tilde_by_hand(module):
    J, g = module.value_and_grad(PARAMS, X, Y, 0.5, "relu")
    assert J == pytest.approx(J_BY_HAND + 0.5 * (1 + LN3**2), rel=TOL.rtol)
    np.testing.assert_allclose(g["W1"], [[1 - LN3 / 8]], rtol=TOL.rtol, atol=TOL.atol)
    np.testing.assert_allclose(g["W2"], [[1 / 8, -1 / 8 + LN3]], rtol=TOL.rtol, atol=TOL.atol)
    np.testing.assert_allclose(g["b1"], GRAD_BY_HAND["b1"], rtol=TOL.rtol, atol=TOL.atol)
    np.testing.assert_allclose(g["b2"], GRAD_BY_HAND["b2"], rtol=TOL.rtol, atol=TOL.atol)


def test_stages_by_hand():
    s = mg.stages(PARAMS, X, Y, "relu")
    np.testing.assert_allclose(s["delta3"], [[1 / 8, -1 / 8], [-1 / 4, 1 / 4]], rtol=TOL.rtol, atol=TOL.atol)
    np.testing.assert_allclose(s["delta2"], [[-LN3 / 8], [0]], rtol=TOL.rtol, atol=TOL.atol)
