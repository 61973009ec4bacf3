"""Layers in the modular style of course assignments, each forward returning (out, cache) and each backward
taking (dout, cache): gradcheck's layer mode.

    gradcheck examples/layers/layers.py:affine_backward \
        --forward examples/layers/layers.py:affine_forward --sample examples/layers/layers.py:sample_affine

The reference is jax.vjp of each forward, run with jax.numpy, for a random dout.
"""

import numpy as np


def affine_forward(x, w, b):
    """x (N, d1, …, dk) flattened to (N, D), w (D, M), b (M,) -> out (N, M)."""
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    return dx, dw, dout.sum(axis=0)


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def batchnorm_forward(x, gamma, beta, bn_param):
    """Training-time batch normalisation of x (N, D) over the batch; bn_param's running averages are updated."""
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    mean = x.mean(axis=0)
    var = x.var(axis=0)
    x_hat = (x - mean) / np.sqrt(var + eps)
    bn_param["running_mean"] = momentum * bn_param.get("running_mean", 0) + (1 - momentum) * mean
    bn_param["running_var"] = momentum * bn_param.get("running_var", 1) + (1 - momentum) * var
    return gamma * x_hat + beta, (x_hat, gamma, np.sqrt(var + eps))


def batchnorm_backward(dout, cache):
    x_hat, gamma, std = cache
    dx_hat = dout * gamma
    dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / std
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def sample_affine(rng):
    N = int(rng.integers(1, 10))
    d1, d2, M = (int(n) for n in rng.choice(np.arange(1, 8), 3, replace=False))
    return rng.standard_normal((N, d1, d2)), rng.standard_normal((d1 * d2, M)), rng.standard_normal(M)


def sample_relu(rng):
    return (rng.standard_normal((int(rng.integers(1, 10)), int(rng.integers(1, 10)))),)


def sample_batchnorm(rng):
    N, D = int(rng.integers(2, 12)), int(rng.integers(1, 10))
    x = 3 * rng.standard_normal((N, D)) + rng.standard_normal(D)
    return x, rng.standard_normal(D), rng.standard_normal(D), {"mode": "train", "eps": 1e-5}
