"""Gradients of a softmax network, derived by hand, in NumPy alone: two layers (the seed's), or any depth."""

from .model import derivation_grad, forward, grad, init_params, loss, stages, value_and_grad
from .validate import ACTIVATIONS, PARAM_NAMES, param_names

__all__ = [
    "ACTIVATIONS",
    "PARAM_NAMES",
    "derivation_grad",
    "forward",
    "grad",
    "init_params",
    "loss",
    "param_names",
    "stages",
    "value_and_grad",
]
