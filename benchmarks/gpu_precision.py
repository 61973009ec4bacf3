"""float32 on a GPU: why the reference asks for full-precision matrix products.

    python -m benchmarks.gpu_precision

On a GPU, JAX's default precision may run float32 matrix products in TF32
(10-bit mantissa). For each shape this prints the normwise relative error,
against float64 gradients of the same float32-valued inputs, of
manual_grad in float32 (NumPy, CPU), of jax_reference in float32 (matmul
precision HIGHEST, on the default device), and of the same loss with JAX's
default precision; and whether each passes the float32 row of the tolerance
table against manual_grad. Prints a Markdown table.
"""

import jax
import jax.numpy as jnp
import numpy as np

import jax_reference as jr
import manual_grad as mg
from jax_reference.cases import make_case
from jax_reference.tolerances import agrees, normwise_error, rounding_scales

SHAPES = [(64, 32, 16, 10), (1024, 784, 256, 10), (8192, 1024, 1024, 100), (1024, 784, (1024, 1024, 1024), 10)]


def default_precision_loss(params, X, y, lam, activation):
    """jax_reference.loss_fn with plain `@`: whatever precision JAX picks by default on this device."""
    L = len(params) // 2
    a = X
    for l in range(1, L):
        a = jr.model.ACTIVATIONS[activation](a @ params[f"W{l}"] + params[f"b{l}"])
    z3 = a @ params[f"W{L}"] + params[f"b{L}"]
    nll = -jnp.take_along_axis(jax.nn.log_softmax(z3, axis=1), y[:, None], axis=1)[:, 0]
    return jnp.mean(nll) + jr.model.penalty_fn(params, lam)


def main():
    default_grad = jax.jit(jax.grad(default_precision_loss), static_argnames="activation")
    print(f"device: {jax.devices()[0].device_kind}; JAX {jax.__version__}; sigmoid, λ = 0.1\n")
    print("| N, D, H, K | parameter | manual_grad f32 | jax_reference f32 (HIGHEST) | JAX default precision f32 "
          "| reference passes | default passes |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for shape in SHAPES:
        params, X, y = make_case(np.random.default_rng(0), *shape, dtype=np.float32)
        truth = mg.grad({k: v.astype(np.float64) for k, v in params.items()}, X.astype(np.float64), y, 0.1)
        mine = mg.grad(params, X, y, 0.1)
        reference = jr.grad(params, X, y, 0.1)
        default = {k: np.asarray(v) for k, v in default_grad(params, X, y, 0.1, "sigmoid").items()}
        scales = rounding_scales(params, X, "sigmoid")
        for name in params:
            errors = [normwise_error(g[name], truth[name])[1] for g in (mine, reference, default)]
            passes = [agrees(g[name], mine[name], np.float32, scales[name]) for g in (reference, default)]
            print(f"| {shape} | {name} | " + " | ".join(f"{e:.2e}" for e in errors)
                  + " | " + " | ".join("yes" if p else "NO" for p in passes) + " |")


if __name__ == "__main__":
    main()
