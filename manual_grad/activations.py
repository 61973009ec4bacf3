"""Activations φ and their derivatives φ', in NumPy.

φ' is written in terms of a = φ(z): the backward pass then needs only the
stored activations, not z as well. At a kink the derivative follows the JAX
function the reference uses:

- relu: a > 0 exactly when z > 0, so φ'(0) = 0, as jax.nn.relu;
- leaky_relu: slope LEAKY_SLOPE below 0, and a >= 0 exactly when z >= 0, so
  φ'(0) = 1, as jax.nn.leaky_relu (jnp.where(z >= 0, z, slope · z));
- softplus: log(1 + e^z) has no kink; its derivative, the sigmoid of z, is
  1 − e^−a, since e^a = 1 + e^z.

φ'' (second_order.py's Hessian-vector product), in terms of a too:

- sigmoid: φ' = a(1 − a), so φ'' = φ'(1 − 2a);
- tanh: φ' = 1 − a², so φ'' = −2a(1 − a²);
- softplus: φ' = σ(z) = 1 − e^−a, so φ'' = σ(1 − σ) = (1 − e^−a) e^−a;
- relu, leaky_relu: φ' is a step, whose derivative is 0 wherever it exists (z ≠ 0). At z = 0 it does not
  exist; 0 is taken there too, as autodiff does (jax.jvp of jax.grad gives 0 at the kink).
"""

import numpy as np

# jax.nn.leaky_relu's default negative_slope.
LEAKY_SLOPE = 0.01


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


def leaky_relu(z):
    return np.where(z >= 0, z, LEAKY_SLOPE * z)


def leaky_relu_prime(a):
    return np.where(a >= 0, 1, LEAKY_SLOPE).astype(a.dtype)


def softplus(z):
    # log(1 + e^z) = log(e^0 + e^z), without overflow for large z.
    return np.logaddexp(z, 0)


def softplus_prime(a):
    return -np.expm1(-a)  # 1 − e^−a, accurate where a is tiny


def log_softmax(z):
    """log of the softmax over each row (the output layer's activation), max-shifted: exp never sees a
    positive argument, so logits of ±1e4 stay finite."""
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


# φ'' from a and φ'(z), which the backward pass has already: one new array each.
def sigmoid_second(a, prime):
    second = 1 - 2 * a
    second *= prime  # φ'(1 − 2a)
    return second


def tanh_second(a, prime):
    second = -2 * a
    second *= prime  # −2a φ'
    return second


def softplus_second(a, prime):
    second = 1 - prime
    second *= prime  # φ'(1 − φ'), φ' the sigmoid of z
    return second


def zero_second(a, prime):
    return np.zeros_like(a)


# name -> (φ, φ' as a function of a = φ(z))
TABLE = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (np.tanh, tanh_prime),
    "relu": (relu, relu_prime),
    "leaky_relu": (leaky_relu, leaky_relu_prime),
    "softplus": (softplus, softplus_prime),
}
# name -> φ'' as a function of a = φ(z) and φ'(z)
SECOND = {"sigmoid": sigmoid_second, "tanh": tanh_second, "relu": zero_second, "leaky_relu": zero_second,
          "softplus": softplus_second}
# Activations with a kink, where tests and gradcheck put exact zeros in z.
KINKED = ("relu", "leaky_relu")
