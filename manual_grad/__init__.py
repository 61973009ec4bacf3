"""Gradients of a two-layer softmax network, derived by hand, in NumPy alone."""

from .model import derivation_grad, forward, grad, init_params, loss, stages, value_and_grad
from .validate import ACTIVATIONS, PARAM_NAMES

__all__ = [
    "ACTIVATIONS",
    "PARAM_NAMES",
    "derivation_grad",
    "forward",
    "grad",
    "init_params",
    "loss",
    "stages",
    "value_and_grad",
]
