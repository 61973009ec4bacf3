"""The two-layer network's Hessian-vector product written out by hand, R-operator line by line, as a student
deriving Newton's method would, with two of the usual slips beside the right one.

    gradcheck examples/second_order/two_layer_hvp.py:hvp --hvp
    gradcheck examples/second_order/two_layer_hvp.py:hvp_without_phi_second --hvp
    gradcheck examples/second_order/two_layer_hvp.py:hvp_penalty_once --hvp
    gradcheck examples/second_order/two_layer_hvp.py:hvp_one_cross_term --hvp
    gradcheck examples/second_order/two_layer_hvp.py:hvp_softmax_diagonal --hvp
    gradcheck examples/second_order/two_layer_hvp.py:hvp_phi_prime_for_second --hvp
"""

import numpy as np

from manual_grad.activations import SECOND, TABLE


def _hvp(params, v, X, y, lam, activation, phi_second=True, penalty=2.0, cross=True, softmax_jacobian=True,
         second_as_prime=False):
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    V1, c1, V2, c2 = (v[k] for k in ("W1", "b1", "W2", "b2"))
    phi, phi_prime = TABLE[activation]
    N = X.shape[0]
    z2 = X @ W1 + b1
    a2 = phi(z2)
    z3 = a2 @ W2 + b2
    a3 = np.exp(z3 - z3.max(axis=1, keepdims=True))
    a3 /= a3.sum(axis=1, keepdims=True)
    delta3 = (a3 - np.eye(W2.shape[1])[y]) / N
    Rz2 = X @ V1 + c1                                   # R{z2}
    Ra2 = phi_prime(a2) * Rz2                           # R{a2} = φ'(z2) ⊙ R{z2}
    Rz3 = Ra2 @ W2 + a2 @ V2 + c2                       # R{z3}
    Rdelta3 = (a3 * Rz3 - a3 * (a3 * Rz3).sum(axis=1, keepdims=True)) / N   # R{δ3}: (diag(a3) − a3 a3ᵀ) R{z3} / N
    if not softmax_jacobian:
        Rdelta3 = a3 * Rz3 / N  # the slip: diag(a3) alone
    Rdelta2 = (Rdelta3 @ W2.T + (delta3 @ V2.T if cross else 0)) * phi_prime(a2)   # R{δ2}, its φ' part
    if phi_second:
        second = phi_prime(a2) if second_as_prime else SECOND[activation](a2, phi_prime(a2))
        Rdelta2 += (delta3 @ W2.T) * second * Rz2   # … and its φ''(z2) part
    return {"W1": X.T @ Rdelta2 + penalty * lam * V1, "b1": Rdelta2.sum(axis=0),
            "W2": Ra2.T @ delta3 + a2.T @ Rdelta3 + penalty * lam * V2, "b2": Rdelta3.sum(axis=0)}


def hvp(params, v, X, y, lam, activation):
    return _hvp(params, v, X, y, lam, activation)


def hvp_without_phi_second(params, v, X, y, lam, activation):
    """R{δ2} with φ' alone: d/dt of φ'(z2) forgotten, as if the activation were piecewise linear."""
    return _hvp(params, v, X, y, lam, activation, phi_second=False)


def hvp_penalty_once(params, v, X, y, lam, activation):
    """λV where the penalty's Hessian gives 2λV."""
    return _hvp(params, v, X, y, lam, activation, penalty=1.0)


def hvp_one_cross_term(params, v, X, y, lam, activation):
    """R{δ2} without δ3 V2ᵀ, while ∂W2's R{a2}ᵀ δ3 is kept: one of a symmetric pair of terms, so the product is
    not symmetric, and no function has it for its Hessian."""
    return _hvp(params, v, X, y, lam, activation, cross=False)


def hvp_softmax_diagonal(params, v, X, y, lam, activation):
    """The softmax's Jacobian taken as diag(a3), its − a3 a3ᵀ forgotten."""
    return _hvp(params, v, X, y, lam, activation, softmax_jacobian=False)


def hvp_phi_prime_for_second(params, v, X, y, lam, activation):
    """R{δ2}'s curvature term with φ'(z2) where φ''(z2) belongs: R{φ'(z2)} taken as φ'(z2) ⊙ R{z2}, the derivative
    of φ where that of φ' is meant."""
    return _hvp(params, v, X, y, lam, activation, second_as_prime=True)
