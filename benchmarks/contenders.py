"""Each contender: one forward and backward pass of the same model, as a zero-argument callable.

A problem is a shape (N, D, H, K), H a width or a tuple of hidden widths, a
dtype and an activation. Every contender gets the same inputs and λ = 0.1, and
computes J~ and every gradient. `known` is not a contender: it allocates and
touches a known number of bytes, to validate the memory measurement.
"""

import time

import numpy as np

import jax_reference as jr
import manual_grad as mg
from jax_reference.cases import make_case

LAM = 0.1
NAMES = {"manual_grad": "manual_grad", "manual_grad_aa": "manual_grad (A/A)", "line_by_line": "line by line",
         "jax_jit": "jax.jit", "torch_autograd": "PyTorch", "gemm_floor": "GEMM floor",
         "manual_hvp": "manual_grad.hvp", "manual_hvp_aa": "manual_grad.hvp (A/A)", "jax_jit_hvp": "jax.jit hvp"}


def problem(shape, dtype, seed=0):
    N, D, H, K = shape
    return make_case(np.random.default_rng(seed), N, D, H, K, dtype=np.dtype(dtype))


def widths(shape):
    N, D, H, K = shape
    return (D, *(H if isinstance(H, (tuple, list)) else (H,)), K)


def manual_grad(params, X, y, activation):
    return lambda: mg.value_and_grad(params, X, y, LAM, activation)


# The A/A control: the same contender under a second name, timed as if it were another.
manual_grad_aa = manual_grad


def line_by_line(params, X, y, activation):
    return lambda: mg.derivation_grad(params, X, y, LAM, activation)


def gemm_floor(params, X, y, activation):
    """The matrix products no implementation can avoid, with the shapes they have in backprop:
    a_l W_l forward, a_lᵀ δ_{l+1} for every layer and δ_{l+1} W_lᵀ for every layer but the first
    (five products for two layers)."""
    rng = np.random.default_rng(1)
    L, N = len(params) // 2, X.shape[0]
    W = [params[f"W{l}"] for l in range(1, L + 1)]
    a = [X] + [rng.random((N, w.shape[1])).astype(X.dtype) for w in W[:-1]]
    deltas = [rng.standard_normal((N, w.shape[1])).astype(X.dtype) for w in W]

    def run():
        for l in range(L):
            a[l] @ W[l]
            a[l].T @ deltas[l]
            if l > 0:
                deltas[l] @ W[l].T

    return run


def _jax_jit(params, X, y, activation):
    import jax
    import jax.numpy as jnp

    activations = (activation,) * (len(params) // 2 - 1) if isinstance(activation, str) else tuple(activation)
    with jax.enable_x64(True):
        f = jax.jit(jax.value_and_grad(jr.loss_fn), static_argnames="activations")
        args = ({k: jnp.asarray(v) for k, v in params.items()}, jnp.asarray(X), jnp.asarray(y), LAM, activations)
    return f, args


def _timed(f, args):
    """(run, compile seconds) of a jitted f on args: the first call compiles, and is timed apart."""
    import jax

    with jax.enable_x64(True):
        start = time.perf_counter()
        jax.block_until_ready(f(*args))
        compile_seconds = time.perf_counter() - start

    def run():
        with jax.enable_x64(True):
            jax.block_until_ready(f(*args))

    return run, compile_seconds


def jax_jit(params, X, y, activation):
    """jax.jit(jax.value_and_grad(loss_fn)) on device arrays; returns (run, compile seconds)."""
    return _timed(*_jax_jit(params, X, y, activation))


def jax_jit_compiled(params, X, y, activation):
    """The compiled executable of `jax_jit`, for its memory_analysis()."""
    import jax

    f, args = _jax_jit(params, X, y, activation)
    with jax.enable_x64(True):
        return f.lower(*args).compile()


def torch_autograd(params, X, y, activation):
    """PyTorch autograd of the same loss, or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    F = torch.nn.functional
    phi = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "leaky_relu": F.leaky_relu,
           "softplus": F.softplus}
    L = len(params) // 2
    activations = (activation,) * (L - 1) if isinstance(activation, str) else tuple(activation)
    p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    tX, ty = torch.from_numpy(X), torch.from_numpy(y)

    def run():
        for v in p.values():
            v.grad = None
        a = tX
        for l in range(1, L):
            a = phi[activations[l - 1]](a @ p[f"W{l}"] + p[f"b{l}"])
        z = a @ p[f"W{L}"] + p[f"b{L}"]
        J = F.cross_entropy(z, ty) + LAM * sum((p[f"W{l}"] ** 2).sum() for l in range(1, L + 1))
        J.backward()

    return run


def known(params, X, y, activation, nbytes):
    """Allocates, touches and frees `nbytes`: what a truthful memory measurement must report."""
    return lambda: np.ones(nbytes // 8, np.float64).sum()


def _direction(params):
    rng = np.random.default_rng(1)
    return {k: rng.standard_normal(p.shape).astype(p.dtype) for k, p in params.items()}


def manual_hvp(params, X, y, activation):
    """manual_grad.hvp along a fixed random direction: the R-operator's extra forward and backward pass."""
    v = _direction(params)
    return lambda: mg.hvp(params, v, X, y, LAM, activation)


manual_hvp_aa = manual_hvp


def jax_jit_hvp(params, X, y, activation):
    """jax.jit of jax.jvp(jax.grad(loss_fn)) on device arrays, forward-over-reverse; (run, compile seconds)."""
    import jax
    import jax.numpy as jnp

    activations = (activation,) * (len(params) // 2 - 1) if isinstance(activation, str) else tuple(activation)
    with jax.enable_x64(True):
        f = jax.jit(lambda p, v, X, y: jax.jvp(lambda q: jax.grad(jr.loss_fn)(q, X, y, LAM, activations), (p,), (v,))[1])
        args = tuple(jax.tree.map(jnp.asarray, a) for a in (params, _direction(params), X, y))
    return _timed(f, args)


def make(name, params, X, y, activation):
    """(run, jax compile seconds or None), or None where the contender is not installed."""
    made = globals()[name](params, X, y, activation)
    if made is None or not isinstance(made, tuple):
        return made if made is None else (made, None)
    return made
