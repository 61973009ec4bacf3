"""Gradients of a two-layer softmax network, derived by hand, in NumPy alone."""

from .model import forward, grad, init_params, loss, stages, value_and_grad
from .validate import ACTIVATIONS, PARAM_NAMES

__all__ = [
    "ACTIVATIONS",
    "PARAM_NAMES",
    "forward",
    "grad",
    "init_params",
    "loss",
    "stages",
    "value_and_grad",
]
