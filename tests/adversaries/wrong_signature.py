"""Leaves out λ and the activation from the signature."""

import manual_grad as mg


def grad(params, X, y):
    return mg.grad(params, X, y)
