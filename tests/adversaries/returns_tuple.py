"""Returns the four gradients as a tuple, not a dict."""

import manual_grad as mg


def grad(params, X, y, lam, activation):
    g = mg.grad(params, X, y, lam, activation)
    return g["W1"], g["b1"], g["W2"], g["b2"]
