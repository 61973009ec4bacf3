"""Second derivatives by hand, for L weight layers: the Hessian-vector product H v of J~ by the R-operator
(Pearlmutter, 1994), and the Gauss-Newton-vector product G v (Schraudolph, 2002).

R{·} = d/dt (·)(θ + t v) at t = 0 is the derivative of a quantity along the direction v = {V_l for W_l, c_l
for b_l}. Applied to each line of deep.py's forward and backward passes, it costs one more forward pass and
one more backward pass:

forward, l = 1..L, with R{a_1} = R{X} = 0:
    R{z_{l+1}} = R{a_l} W_l + a_l V_l + c_l
    R{a_{l+1}} = φ'(z_{l+1}) ⊙ R{z_{l+1}}                                   (hidden layers)
at the output, the softmax's Jacobian diag(a) − a aᵀ, row by row:
    R{δ_{L+1}} = (a_{L+1} ⊙ R{z_{L+1}} − a_{L+1} ⊙ Σ_k (a_{L+1} ⊙ R{z_{L+1}})[:, k]) / N
backward, l = L..1:
    R{∂J~/∂W_l} = R{a_l}ᵀ δ_{l+1} + a_lᵀ R{δ_{l+1}} + 2λ V_l
    R{∂J/∂b_l}  = Σ_i R{δ_{l+1}}[i, :]
    R{δ_l} = (R{δ_{l+1}} W_lᵀ + δ_{l+1} V_lᵀ) ⊙ φ'(z_l) + (δ_{l+1} W_lᵀ) ⊙ φ''(z_l) ⊙ R{z_l}      (l >= 2)
    with δ_l = (δ_{l+1} W_lᵀ) ⊙ φ'(z_l), the gradient's own recursion

H v is the R-gradients, with the keys of params.

The Gauss-Newton product keeps only the loss's curvature in the logits: G v = J_zᵀ H_z J_z v + 2λ V, with J_z
the Jacobian of the logits z_{L+1} in θ and H_z the cross-entropy's Hessian in them, (diag(a) − a aᵀ)/N per
row: positive semi-definite, as Newton-like methods need. Its lines are the forward R-pass, the same
R{δ_{L+1}}, and the gradient's own backward pass run on R{δ}: it drops every term in δ (R{a_l}ᵀ δ_{l+1},
δ_{l+1} V_lᵀ, and the φ'' term), the curvature of the network itself.
"""

import numpy as np

from .activations import SECOND, TABLE, log_softmax
from .deep import depth, forward
from .validate import check_direction, check_loss_inputs


def _products(params, v, X, y, lam, activations, exact):
    """H v (exact) or G v, by the lines of the module docstring."""
    L, N = depth(params), X.shape[0]
    a, z_out = forward(params, X, activations)
    phi_prime = {l: TABLE[activations[l - 2]][1](a[l]) for l in range(2, L + 1)}  # φ'(z_l), from a_l

    # R{a_1} = R{X} = 0: its terms are left out at l = 1 (two products of X's size, for nothing).
    Ra, Rz = {}, {2: X @ v["W1"] + v["b1"]}  # R{z_2} = X V_1 + c_1
    for l in range(2, L + 1):
        Ra[l] = phi_prime[l] * Rz[l]  # R{a_l} = φ'(z_l) ⊙ R{z_l}
        Rz[l + 1] = Ra[l] @ params[f"W{l}"] + a[l] @ v[f"W{l}"] + v[f"b{l}"]  # R{z_{l+1}}
    Rz_out = Rz[L + 1]

    a_out = np.exp(log_softmax(z_out))  # a_{L+1}
    delta = {L + 1: (a_out - np.eye(z_out.shape[1], dtype=X.dtype)[y]) / N}  # δ_{L+1} = (a_{L+1} − Δ)/N
    a_Rz = a_out * Rz_out
    R_delta = {L + 1: (a_Rz - a_out * a_Rz.sum(axis=1, keepdims=True)) / N}  # R{δ_{L+1}}
    products = {}
    # In place where an array of N rows is built, as fast.py does: each new one costs its pages again.
    for l in range(L, 0, -1):
        W, V = params[f"W{l}"], v[f"W{l}"]
        products[f"W{l}"] = a[l].T @ R_delta[l + 1] + 2 * lam * V  # a_lᵀ R{δ_{l+1}} + 2λ V_l
        if exact and l > 1:
            products[f"W{l}"] += Ra[l].T @ delta[l + 1]  # + R{a_l}ᵀ δ_{l+1}
        products[f"b{l}"] = R_delta[l + 1].sum(axis=0)  # Σ_i R{δ_{l+1}}[i, :]
        if l == 1:
            break
        R_back = R_delta[l + 1] @ W.T  # R{δ_{l+1}} W_lᵀ
        if exact:
            back = delta[l + 1] @ W.T  # δ_{l+1} W_lᵀ
            R_back += delta[l + 1] @ V.T  # + δ_{l+1} V_lᵀ
            curvature = SECOND[activations[l - 2]](a[l], phi_prime[l])  # φ''(z_l)
            curvature *= back
            curvature *= Rz[l]  # (δ_{l+1} W_lᵀ) ⊙ φ''(z_l) ⊙ R{z_l}
            if l > 2:  # layer 1 has no R{a_1}ᵀ δ_2 term (R{a_1} = 0): δ_2 is never needed
                back *= phi_prime[l]
                delta[l] = back  # δ_l = (δ_{l+1} W_lᵀ) ⊙ φ'(z_l), for the layer below
        R_back *= phi_prime[l]
        if exact:
            R_back += curvature
        R_delta[l] = R_back  # R{δ_l}
    return {name: products[name] for name in params}


def hvp(params, v, X, y, lam=0.0, activation="sigmoid"):
    """The Hessian of J~ times v, by the R-operator: one forward and one backward pass more than the gradient.

    Args:
      params, X, y, lam, activation: as for `loss`.
      v: the direction, a dict with the keys, shapes and dtype of params.

    Returns:
      H v, a dict with the keys and shapes of params.
    """
    params, X, y, lam, activations = check_loss_inputs(params, X, y, lam, activation)
    return _products(params, check_direction(v, params), X, y, lam, activations, exact=True)


def gnvp(params, v, X, y, lam=0.0, activation="sigmoid"):
    """The Gauss-Newton matrix of J~ times v: J_zᵀ H_z J_z v + 2λ V (positive semi-definite).

    Args and returns: as for `hvp`.
    """
    params, X, y, lam, activations = check_loss_inputs(params, X, y, lam, activation)
    return _products(params, check_direction(v, params), X, y, lam, activations, exact=False)
