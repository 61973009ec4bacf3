"""The same network and loss in JAX. Its gradients come from `jax.grad` alone.

`loss_fn` is the reference, written plainly. `masked_loss_fn` is the same loss
on zero-padded arrays, where only the first `n` rows and `k` classes are real:
padding to a few fixed shapes lets one compilation serve many input shapes.
"""

import jax
import jax.numpy as jnp
from jax import lax

ACTIVATIONS = {"sigmoid": jax.nn.sigmoid, "tanh": jnp.tanh, "relu": jax.nn.relu}


def _matmul(a, b):
    # On a GPU the default precision may be TF32 for float32; ask for full precision.
    return jnp.matmul(a, b, precision=lax.Precision.HIGHEST)


def hidden_fn(params, X):
    """z2 = X W1 + b1, (N, H)."""
    return _matmul(X, params["W1"]) + params["b1"]


def head_fn(params, z2, activation):
    """z3 = φ(z2) W2 + b2, (N, K)."""
    return _matmul(ACTIVATIONS[activation](z2), params["W2"]) + params["b2"]


def forward_fn(params, X, activation):
    """Logits z3 (N, K) of X (N, D)."""
    return head_fn(params, hidden_fn(params, X), activation)


def penalty_fn(params, lam):
    """λ (‖W1‖² + ‖W2‖²); the biases are not regularised."""
    return lam * (jnp.sum(params["W1"] ** 2) + jnp.sum(params["W2"] ** 2))


def _nll(z3, y):
    """−log a3[i, y_i] for each row, through the max-shifted log-softmax."""
    return -jnp.take_along_axis(jax.nn.log_softmax(z3, axis=1), y[:, None], axis=1)[:, 0]


def loss_fn(params, X, y, lam, activation):
    """J~ = (1/N) Σ_i −log softmax(z3)[i, y_i] + λ (‖W1‖² + ‖W2‖²)."""
    return jnp.mean(_nll(forward_fn(params, X, activation), y)) + penalty_fn(params, lam)


def masked_data_loss(z3, y, n, k):
    """J from padded logits: rows >= n and classes >= k are padding.

    A padded class gets the logit −inf, so its probability is exactly 0 and it
    leaves the softmax of the real classes unchanged; padded rows are left out
    of the mean.
    """
    z3 = jnp.where(jnp.arange(z3.shape[1]) < k, z3, -jnp.inf)
    nll = jnp.where(jnp.arange(z3.shape[0]) < n, _nll(z3, y), 0)
    return jnp.sum(nll) / n.astype(nll.dtype)


def masked_loss_fn(params, X, y, n, k, lam, activation):
    """`loss_fn` of the real part of zero-padded params, X and y.

    Zero padding of X's columns, W1's rows and columns, b1, W2's rows and
    columns and b2 changes no real logit: padded inputs meet zero weights, and
    padded hidden units, whatever φ(0) is, meet zero rows of W2.
    """
    return masked_data_loss(forward_fn(params, X, activation), y, n, k) + penalty_fn(params, lam)


def masked_stages_fn(params, X, y, n, k, activation):
    """δ3 = ∂J/∂z3 and δ2 = ∂J/∂z2 of the padded problem, by autodiff.

    δ3 is jax.grad of J as a function of the logits; δ2 pulls it back through
    z3 = φ(z2) W2 + b2 with jax.vjp.
    """
    z3, head_vjp = jax.vjp(lambda z2: head_fn(params, z2, activation), hidden_fn(params, X))
    delta3 = jax.grad(masked_data_loss)(z3, y, n, k)
    (delta2,) = head_vjp(delta3)
    return {"delta3": delta3, "delta2": delta2}
