"""The reference: the same loss in JAX, differentiated by `jax.grad`."""

from manual_grad import init_params

from .api import bucket, forward, grad, loss, stages, value_and_grad
from .model import forward_fn, loss_fn

__all__ = [
    "bucket",
    "forward",
    "forward_fn",
    "grad",
    "init_params",
    "loss",
    "loss_fn",
    "stages",
    "value_and_grad",
]
