"""Returns JAX arrays computed with JAX's default float32: a float64 check must not pass them."""

import jax.numpy as jnp

import manual_grad as mg


def grad(params, X, y, lam, activation):
    return {k: jnp.asarray(v) for k, v in mg.grad(params, X, y, lam, activation).items()}
