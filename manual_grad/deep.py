"""The derivation for L weight layers: the two-layer one (model._backward), one layer at a time.

Numbered as the seed numbers the two-layer network: a_1 = X, and for l = 1..L

    z_{l+1} = a_l W_l + b_l,    a_{l+1} = φ_{l+1}(z_{l+1}) for the hidden layers,    a_{L+1} = softmax(z_{L+1}).

The backward pass starts where the two-layer one does, at the softmax, and
repeats one step per layer (the induction step of docs/derivation.md):

    δ_{L+1} = (a_{L+1} − Δ) / N
    ∂J/∂W_l = a_lᵀ δ_{l+1}        ∂J/∂b_l = Σ_i δ_{l+1}[i, :]
    δ_l = (δ_{l+1} W_lᵀ) ⊙ φ_l'(z_l)        for l = L, …, 2

For L = 2 these are the lines of model._backward, and the tests hold them to it.
"""

import numpy as np

from .activations import TABLE, log_softmax


def depth(params):
    """L, the number of weight layers, from params' keys."""
    return len(params) // 2


def penalty(params, lam):
    # λ Σ_l ‖W_l‖²_F; the biases are not regularised.
    return lam * sum(np.sum(params[f"W{l}"] ** 2) for l in range(1, depth(params) + 1))


def forward(params, X, activations):
    """({l: a_l} for l = 1..L, the logits z_{L+1}); activations[l − 2] is φ_l, the activation of hidden layer l."""
    a = {1: X}  # a_1 = X
    L = depth(params)
    for l in range(1, L):
        z = a[l] @ params[f"W{l}"] + params[f"b{l}"]  # z_{l+1} = a_l W_l + b_l
        a[l + 1] = TABLE[activations[l - 1]][0](z)  # a_{l+1} = φ_{l+1}(z_{l+1})
    return a, a[L] @ params[f"W{L}"] + params[f"b{L}"]  # z_{L+1}


def backward(params, X, y, lam, activations):
    """J~, its gradients and every δ_l, one line per equation of the recursion."""
    L, N = depth(params), X.shape[0]
    a, z_out = forward(params, X, activations)
    log_a_out = log_softmax(z_out)  # log a_{L+1}, (N, K)
    J = -np.mean(log_a_out[np.arange(N), y]) + penalty(params, lam)

    Delta = np.eye(z_out.shape[1], dtype=X.dtype)[y]  # (N, K), one-hot of y
    delta = {L + 1: (np.exp(log_a_out) - Delta) / N}  # δ_{L+1} = (a_{L+1} − Δ)/N
    grads = {}
    for l in range(L, 0, -1):
        grads[f"W{l}"] = a[l].T @ delta[l + 1] + 2 * lam * params[f"W{l}"]  # ∂J~/∂W_l = a_lᵀ δ_{l+1} + 2λ W_l
        grads[f"b{l}"] = delta[l + 1].sum(axis=0)  # ∂J/∂b_l = Σ_i δ_{l+1}[i, :]
        if l > 1:
            phi_prime = TABLE[activations[l - 2]][1]
            delta[l] = (delta[l + 1] @ params[f"W{l}"].T) * phi_prime(a[l])  # δ_l = (δ_{l+1} W_lᵀ) ⊙ φ_l'(z_l)
    # δ_{L+1} first, in the order the backward pass meets them, as model._backward returns δ3, δ2.
    return J, {name: grads[name] for name in params}, {f"delta{l}": delta[l] for l in sorted(delta, reverse=True)}
