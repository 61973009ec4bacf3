"""The public functions: same names and signatures as `manual_grad`.

Inputs are checked by `manual_grad.validate` (one set of rules for both
packages), zero-padded to a bucket shape, and given to a jitted function that
is compiled once per bucket, depth and dtype rather than once per input shape
and mix of activations (they are passed as traced codes, see model.CODES). float64 inputs are computed in float64 whatever the global JAX setting.
Results come back as NumPy arrays of the input dtype.
"""

import jax
import numpy as np

from manual_grad.validate import check_forward_inputs, check_loss_inputs

from . import BATCH
from .fast_compile import Jitted
from .model import CODES, forward_fn, masked_loss_fn, masked_stages_fn

MIN_BUCKET = 32
# Above this size, a power of two would waste up to half of a padded dimension: buckets get finer.
FINE_FROM = 256
# Above this many (padded) rows the loss is summed over blocks of SCAN_ROWS rows in a lax.scan, each
# block recomputed in the backward pass (jax.checkpoint), so that memory does not grow with N.
SCAN_FROM = 1 << 15
SCAN_ROWS = 1 << 12
# Programs whose padded arrays are no wider than this are compiled with XLA's fast-compile options
# (fast_compile.py): they run a few times per bucket in a gradcheck sweep or a test, and compiling is what
# costs. Measured (value_and_grad, float64, 2-core x86-64, widths all at the bucket): at 128, one hidden layer
# compiles in 85 ms instead of 364 and runs in 870 µs instead of 469, three in 123 ms instead of 319 and
# 1518 µs instead of 888: the fast program is ahead for its first 300 to 700 runs; at 256, for 130 to 170.
# Benchmarks' sizes, and any program whose run time matters, keep XLA's optimisations.
FAST_COMPILE_UP_TO = 128


def bucket(n):
    """The padded size for a dimension of size n: a power of two, at least MIN_BUCKET, up to FINE_FROM;
    above it, the next multiple of an eighth of the power of two below n, which wastes at most 12.5%
    (and, above SCAN_FROM, is a multiple of SCAN_ROWS)."""
    if n <= FINE_FROM:
        return max(MIN_BUCKET, 1 << (n - 1).bit_length())
    step = 1 << ((n - 1).bit_length() - 4)
    return -(-n // step) * step


def _scan_rows(padded_rows):
    return SCAN_ROWS if padded_rows > SCAN_FROM else None


def _pad(array, shape):
    padded = np.zeros(shape, array.dtype)
    padded[tuple(slice(0, s) for s in array.shape)] = array
    return padded


def _pad_params(params):
    """Every W_l and b_l padded to the buckets of its widths."""
    return {name: _pad(p, tuple(bucket(s) for s in p.shape)) for name, p in params.items()}


def _small(params, X):
    """Whether padded inputs are small enough to be compiled fast (FAST_COMPILE_UP_TO)."""
    return max(max(p.shape) for p in (*params.values(), X)) <= FAST_COMPILE_UP_TO


def _unpad(padded, params):
    padded = jax.device_get(padded)  # every array in one transfer
    return {name: padded[name][tuple(slice(0, s) for s in params[name].shape)] for name in params}


_padded_forward = Jitted(forward_fn)
_padded_value_and_grad = Jitted(jax.value_and_grad(masked_loss_fn), static_argnames="rows")
_padded_stages = Jitted(masked_stages_fn)


def _codes(activations):
    return np.array([CODES[a] for a in activations], np.int32)


def _K(params, activations):
    return params[f"W{len(activations) + 1}"].shape[1]


def _padded_problem(params, X, y, activations):
    """Checked inputs zero-padded to their bucket, with the true N and K."""
    N, D = X.shape
    return (
        _pad_params(params),
        _pad(X, (bucket(N), bucket(D))),
        _pad(y.astype(np.int32), (bucket(N),)),
        np.int32(N),
        np.int32(_K(params, activations)),
    )


def _value_and_grad(params, X, y, lam, activations):
    """Checked inputs in, (J~ as a 0-d array, grads as a dict of arrays) out."""
    with jax.enable_x64(True):
        problem = _padded_problem(params, X, y, activations)
        J, grads = _padded_value_and_grad(_small(*problem[:2]), *problem, lam, _codes(activations),
                                          rows=_scan_rows(problem[1].shape[0]))
        return np.asarray(J), _unpad(grads, params)


_padded_value_and_grad_batch = Jitted(jax.vmap(jax.value_and_grad(masked_loss_fn)))


def grad_many(problems):
    """The gradients of many problems, each (params, X, y, lam, activation), in as few JAX calls as their
    buckets allow: problems of one bucket and depth are stacked BATCH at a time and differentiated by one
    vmapped call. For gradcheck, whose small cases share a bucket. The calls are made, not waited for: JAX
    computes them while the caller goes on. Returns a function that waits for them and returns a list of
    dicts, as `grad`."""
    checked = [check_loss_inputs(*problem) for problem in problems]
    groups = {}
    for i, (params, X, y, lam, activations) in enumerate(checked):
        padded = _padded_problem(params, X, y, activations)
        key = (X.dtype, tuple((name, p.shape) for name, p in padded[0].items()), padded[1].shape)
        groups.setdefault(key, []).append((i, padded, lam, _codes(activations)))
    calls = []
    with jax.enable_x64(True):
        for members in groups.values():
            for start in range(0, len(members), BATCH):
                chunk = members[start:start + BATCH]
                full = chunk + [chunk[-1]] * (BATCH - len(chunk))  # a fixed batch size: one compilation
                stacked = [jax.tree.map(lambda *a: np.stack(a), *(m[1][j] for m in full)) for j in range(5)]
                lams = np.array([m[2] for m in full], full[0][1][1].dtype)
                codes = np.stack([m[3] for m in full])
                small = _small(*full[0][1][:2])
                calls.append((chunk, _padded_value_and_grad_batch(small, *stacked, lams, codes)[1]))

    def results():
        gradients = [None] * len(checked)
        for chunk, grads in calls:
            grads = jax.device_get(grads)
            for b, (i, *_) in enumerate(chunk):
                params = checked[i][0]
                # Each its own array, not a view into the batch's: a sum over it (np.vdot) then runs in the order
                # it runs over the same values read back from gradcheck's cache, to the last bit.
                gradients[i] = {name: np.ascontiguousarray(grads[name][b][tuple(slice(0, s) for s in params[name].shape)])
                                for name in params}
        return gradients

    return results


def forward(params, X, activation="sigmoid"):
    """The logits z_{L+1}, (N, K). Args as `manual_grad.forward`."""
    params, X, activations = check_forward_inputs(params, X, activation)
    N, D = X.shape
    with jax.enable_x64(True):
        padded_params, padded_X = _pad_params(params), _pad(X, (bucket(N), bucket(D)))
        z = _padded_forward(_small(padded_params, padded_X), padded_params, padded_X, _codes(activations))
        return np.asarray(z)[:N, : _K(params, activations)]


def value_and_grad(params, X, y, lam=0.0, activation="sigmoid"):
    """(J~, grads) from `jax.value_and_grad`. Args as `manual_grad.value_and_grad`."""
    return _value_and_grad(*check_loss_inputs(params, X, y, lam, activation))


def loss(params, X, y, lam=0.0, activation="sigmoid"):
    """J~ = J + lam Σ_l ‖W_l‖². Args as `manual_grad.loss`."""
    return value_and_grad(params, X, y, lam, activation)[0]


def grad(params, X, y, lam=0.0, activation="sigmoid"):
    """The gradient of J~ from `jax.grad`. Args as `manual_grad.grad`."""
    return value_and_grad(params, X, y, lam, activation)[1]


def stages(params, X, y, activation="sigmoid"):
    """δ_l = ∂J/∂z_l for l = L+1..2 by autodiff ("delta3", "delta2" for two layers). Args as `manual_grad.stages`."""
    params, X, y, _, activations = check_loss_inputs(params, X, y, 0.0, activation)
    N = X.shape[0]
    widths = [params[f"W{l}"].shape[1] for l in range(1, len(activations) + 2)]
    with jax.enable_x64(True):
        problem = _padded_problem(params, X, y, activations)
        deltas = _padded_stages(_small(*problem[:2]), *problem, _codes(activations))
        return {f"delta{l}": np.asarray(deltas[f"delta{l}"])[:N, :w]
                for l, w in reversed(list(enumerate(widths, start=2)))}
