"""Activations φ and their derivatives φ', in NumPy.

φ' is written in terms of a = φ(z): the backward pass then needs only a2, not
z2 as well. For relu, a > 0 exactly when z > 0, so φ'(0) = 0 as in jax.nn.relu.
"""

import numpy as np


def sigmoid(z):
    # 1 / (1 + e^-z) written through tanh: no overflow warning for any z.
    return 0.5 + 0.5 * np.tanh(0.5 * z)


def sigmoid_prime(a):
    return a * (1 - a)


def tanh_prime(a):
    return 1 - a * a


def relu(z):
    return np.maximum(z, 0)


def relu_prime(a):
    return (a > 0).astype(a.dtype)


# name -> (φ, φ' as a function of a = φ(z))
TABLE = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (np.tanh, tanh_prime),
    "relu": (relu, relu_prime),
}
