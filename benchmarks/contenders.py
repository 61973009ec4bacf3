"""Each contender: one forward and backward pass of the same model, as a zero-argument callable.

All contenders get the same inputs (float32 or float64), the sigmoid
activation by default and λ = 0.1, so each computes J~ and its four gradients.
"""

import numpy as np

import jax_reference as jr
import manual_grad as mg
from jax_reference.cases import make_case

LAM = 0.1


def problem(N, D, H, K, dtype, seed=0):
    return make_case(np.random.default_rng(seed), N, D, H, K, dtype=dtype)


def manual_grad(params, X, y, activation):
    return lambda: mg.value_and_grad(params, X, y, LAM, activation)


def line_by_line(params, X, y, activation):
    return lambda: mg.derivation_grad(params, X, y, LAM, activation)


def gemm_floor(params, X, y, activation):
    """The five matrix products no implementation can avoid, with the shapes they have in backprop."""
    rng = np.random.default_rng(1)
    a2 = rng.random((X.shape[0], params["W1"].shape[1])).astype(X.dtype)
    delta3 = rng.standard_normal((X.shape[0], params["W2"].shape[1])).astype(X.dtype)
    W1, W2 = params["W1"], params["W2"]

    def run():
        X @ W1  # z2
        a2 @ W2  # z3
        a2.T @ delta3  # ∂J/∂W2
        delta2 = delta3 @ W2.T
        X.T @ delta2  # ∂J/∂W1

    return run


def jax_jit(params, X, y, activation):
    """jax.jit(jax.value_and_grad(loss_fn)) on device arrays; returns (run, compile seconds)."""
    import time

    import jax
    import jax.numpy as jnp

    with jax.enable_x64(True):
        f = jax.jit(jax.value_and_grad(jr.loss_fn), static_argnames="activation")
        args = ({k: jnp.asarray(v) for k, v in params.items()}, jnp.asarray(X), jnp.asarray(y))
        start = time.perf_counter()
        jax.block_until_ready(f(*args, LAM, activation))
        compile_seconds = time.perf_counter() - start

    def run():
        with jax.enable_x64(True):
            jax.block_until_ready(f(*args, LAM, activation))

    return run, compile_seconds


def torch_autograd(params, X, y, activation):
    """PyTorch autograd of the same loss, or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    phi = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[activation]
    p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    tX, ty = torch.from_numpy(X), torch.from_numpy(y)

    def run():
        for v in p.values():
            v.grad = None
        z3 = phi(tX @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
        J = torch.nn.functional.cross_entropy(z3, ty) + LAM * ((p["W1"] ** 2).sum() + (p["W2"] ** 2).sum())
        J.backward()

    return run
