"""The same network and loss in JAX, for any depth. Its gradients come from `jax.grad` alone.

`loss_fn` is the reference, written plainly. `masked_loss_fn` is the same loss
on zero-padded arrays, where only the first `n` rows and `k` classes are real:
padding to a few fixed shapes lets one compilation serve many input shapes.
`activations` is one name for every hidden layer, a tuple with one per
hidden layer, or an integer array of their CODES; params are W1, b1, …, WL,
bL, and the depth L is read from them.
"""

import jax
import jax.numpy as jnp
from jax import lax

ACTIVATIONS = {"sigmoid": jax.nn.sigmoid, "tanh": jnp.tanh, "relu": jax.nn.relu,
               "leaky_relu": jax.nn.leaky_relu, "softplus": jax.nn.softplus}
# An activation given as its index in ACTIVATIONS, a traced integer, is chosen at run time by
# lax.switch: one compilation then serves every mix of activations of a given depth.
CODES = {name: i for i, name in enumerate(ACTIVATIONS)}


def _activate(z, activation):
    if isinstance(activation, str):
        return ACTIVATIONS[activation](z)
    return lax.switch(activation, list(ACTIVATIONS.values()), z)


def _matmul(a, b):
    # On a GPU the default precision may be TF32 for float32; ask for full precision.
    return jnp.matmul(a, b, precision=lax.Precision.HIGHEST)


def _logits(params, X, activations, shifts=None):
    """z_{L+1}; with `shifts`, each z_l has shifts[l] added, so that ∂J/∂shifts[l] = δ_l."""
    shifts = shifts or {}
    L = len(params) // 2
    if isinstance(activations, str):
        activations = (activations,) * (L - 1)
    a = X
    for l in range(1, L):
        z = _matmul(a, params[f"W{l}"]) + params[f"b{l}"] + shifts.get(l + 1, 0)  # z_{l+1}
        a = _activate(z, activations[l - 1])
    return _matmul(a, params[f"W{L}"]) + params[f"b{L}"] + shifts.get(L + 1, 0)


def forward_fn(params, X, activations):
    """Logits z_{L+1} (N, K) of X (N, D)."""
    return _logits(params, X, activations)


def penalty_fn(params, lam):
    """λ Σ_l ‖W_l‖²; the biases are not regularised."""
    return lam * sum(jnp.sum(w**2) for name, w in params.items() if name.startswith("W"))


def _nll(z, y):
    """−log a_{L+1}[i, y_i] for each row, through the max-shifted log-softmax."""
    return -jnp.take_along_axis(jax.nn.log_softmax(z, axis=1), y[:, None], axis=1)[:, 0]


def loss_fn(params, X, y, lam, activations):
    """J~ = (1/N) Σ_i −log softmax(z_{L+1})[i, y_i] + λ Σ_l ‖W_l‖²."""
    return jnp.mean(_nll(forward_fn(params, X, activations), y)) + penalty_fn(params, lam)


def masked_data_loss(z, y, n, k):
    """J from padded logits: rows >= n and classes >= k are padding.

    A padded class gets the logit −inf, so its probability is exactly 0 and it
    leaves the softmax of the real classes unchanged; padded rows are left out
    of the mean.
    """
    z = jnp.where(jnp.arange(z.shape[1]) < k, z, -jnp.inf)
    nll = jnp.where(jnp.arange(z.shape[0]) < n, _nll(z, y), 0)
    return jnp.sum(nll) / n.astype(nll.dtype)


def masked_loss_fn(params, X, y, n, k, lam, activations, rows=None):
    """`loss_fn` of the real part of zero-padded params, X and y.

    Zero padding of X's columns, of every W's rows and columns and every b
    changes no real logit: padded inputs meet zero weights, and padded hidden
    units, whatever φ(0) is, meet zero rows of the next W.

    rows: None, or a block size dividing X's rows: the loss is then summed block
    by block in a lax.scan, and each block's forward pass is recomputed in the
    backward pass (jax.checkpoint) rather than stored, so that memory holds a
    block's activations whatever N is.
    """
    if rows is None:
        return masked_data_loss(forward_fn(params, X, activations), y, n, k) + penalty_fn(params, lam)

    @jax.checkpoint
    def block_nll(params, X_block, y_block, first_row):
        z = forward_fn(params, X_block, activations)
        z = jnp.where(jnp.arange(z.shape[1]) < k, z, -jnp.inf)
        real = first_row + jnp.arange(rows) < n
        return jnp.sum(jnp.where(real, _nll(z, y_block), 0))

    blocks = X.shape[0] // rows
    starts = jnp.arange(blocks) * rows
    total, _ = lax.scan(lambda carry, block: (carry + block_nll(params, *block), None), jnp.zeros((), X.dtype),
                        (X.reshape(blocks, rows, X.shape[1]), y.reshape(blocks, rows), starts))
    return total / n.astype(X.dtype) + penalty_fn(params, lam)


def masked_stages_fn(params, X, y, n, k, activations):
    """δ_l = ∂J/∂z_l for l = 2..L+1 of the padded problem, by autodiff.

    Each z_l gets a zero shift added; jax.grad of J with respect to the shifts
    is every δ_l at once, from one backward pass.
    """
    N = X.shape[0]
    widths = [params[f"W{l}"].shape[1] for l in range(1, len(params) // 2 + 1)]
    shifts = {l: jnp.zeros((N, w), X.dtype) for l, w in enumerate(widths, start=2)}
    deltas = jax.grad(lambda s: masked_data_loss(_logits(params, X, activations, s), y, n, k))(shifts)
    return {f"delta{l}": delta for l, delta in deltas.items()}
