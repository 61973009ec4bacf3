"""Each layer of layers.py with a typical mistake in its backward pass."""

import numpy as np


def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = dout.T @ x.reshape(x.shape[0], -1)  # the transpose of x_flatᵀ dout
    return dx, dw, dout.sum(axis=0)


def relu_backward(dout, cache):
    return dout * (dout > 0)  # the mask belongs to the input x (the cache), not to dout


def batchnorm_backward(dout, cache):
    x_hat, gamma, std = cache
    return dout * gamma / std, (dout * x_hat).sum(axis=0), dout.sum(axis=0)  # mean and variance taken as constants
