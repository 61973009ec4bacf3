"""Gradients of a softmax network, derived by hand, in NumPy alone: two layers (the seed's), or any depth; and
its Hessian- and Gauss-Newton-vector products (second_order.py)."""

from .model import derivation_grad, forward, grad, init_params, loss, stages, value_and_grad
from .second_order import gnvp, hvp
from .validate import ACTIVATIONS, PARAM_NAMES, param_names

__all__ = [
    "ACTIVATIONS",
    "PARAM_NAMES",
    "derivation_grad",
    "forward",
    "gnvp",
    "grad",
    "hvp",
    "init_params",
    "loss",
    "param_names",
    "stages",
    "value_and_grad",
]
