"""The two-layer softmax network and its gradients, derived by hand.

Row-vector convention, a batch of N examples, D inputs, H hidden units, K classes:

    z2 = X W1 + b1      a2 = φ(z2)      z3 = a2 W2 + b2      a3 = softmax(z3)
    J  = (1/N) Σ_i −log a3[i, y_i]      J~ = J + λ (‖W1‖² + ‖W2‖²)

Pure functions over a params dict {"W1": (D, H), "b1": (H,), "W2": (H, K),
"b2": (K,)}; nothing is stored between the forward and the backward pass.
The same functions take deeper networks, {"W1", "b1", …, "WL", "bL"}: the
derivation for L layers is `deep.py`, the same recursion one layer at a time.
"""

from collections.abc import Sequence

import numpy as np

from . import deep, fast
from .activations import TABLE, log_softmax
from .validate import check_forward_inputs, check_loss_inputs


def init_params(D, H, K, *, rng, dtype=np.float64):
    """Random weights scaled by 1/sqrt(fan-in), zero biases.

    Args:
      D, K: input and class counts, each >= 1.
      H: the hidden width (two layers), or a sequence of hidden widths
        (H2, …, HL) for a network of L = len(H) + 1 weight layers.
      rng: a `np.random.Generator`; the only source of randomness.
      dtype: float32 or float64.

    Returns:
      {"W1": (D, H), "b1": (H,), "W2": (H, K), "b2": (K,)} of `dtype`; for a
      sequence H, W_l of shape (width_l, width_{l+1}) and b_l of width_{l+1}.
    """
    hidden = tuple(H) if isinstance(H, Sequence) and not isinstance(H, str) else (H,)
    for name, n in (("D", D), *((f"H[{i}]" if len(hidden) > 1 else "H", h) for i, h in enumerate(hidden)), ("K", K)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"{name} must be an integer >= 1; got {n!r}")
    if not hidden:
        raise ValueError("H must be a width or a non-empty sequence of widths; got an empty sequence")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64; got {np.dtype(dtype)}")
    widths = (D, *hidden, K)
    params = {}
    for l, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        params[f"W{l}"] = (rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)).astype(dtype)
        params[f"b{l}"] = np.zeros(fan_out, dtype)
    return params


def _backward(params, X, y, lam, activation):
    """J~ and every quantity of the backward pass, one line per equation.

    The derivation as written on paper, for two layers. `fast.value_and_grad`
    computes the same equations in place, and is what `value_and_grad` and
    `grad` run.
    """
    phi, phi_prime = TABLE[activation]
    N, K = X.shape[0], params["W2"].shape[1]

    z2 = X @ params["W1"] + params["b1"]  # (N, H)
    a2 = phi(z2)  # (N, H)
    z3 = a2 @ params["W2"] + params["b2"]  # (N, K)
    log_a3 = log_softmax(z3)  # (N, K), max-shifted
    a3 = np.exp(log_a3)  # (N, K), softmax over the K classes of each row
    J = -np.mean(log_a3[np.arange(N), y]) + deep.penalty(params, lam)

    Delta = np.eye(K, dtype=X.dtype)[y]  # (N, K), one-hot of y
    delta3 = (a3 - Delta) / N  # ∂J/∂z3, (N, K)
    dW2 = a2.T @ delta3  # ∂J/∂W2 = a2ᵀ δ3, (H, K)
    db2 = delta3.sum(axis=0)  # ∂J/∂b2 = Σ_i δ3[i, :], (K,)
    delta2 = (delta3 @ params["W2"].T) * phi_prime(a2)  # ∂J/∂z2 = (δ3 W2ᵀ) ⊙ φ'(z2), (N, H)
    dW1 = X.T @ delta2  # ∂J/∂W1 = Xᵀ δ2, (D, H)
    db1 = delta2.sum(axis=0)  # ∂J/∂b1 = Σ_i δ2[i, :], (H,)

    grads = {
        "W1": dW1 + 2 * lam * params["W1"],  # ∂J~/∂W1 = ∂J/∂W1 + 2λ W1
        "b1": db1,
        "W2": dW2 + 2 * lam * params["W2"],  # ∂J~/∂W2 = ∂J/∂W2 + 2λ W2
        "b2": db2,
    }
    return J, grads, {"delta3": delta3, "delta2": delta2}


def _derivation(params, X, y, lam, activations):
    """The line-by-line derivation: this module's for two layers, `deep.backward` for more."""
    if len(activations) == 1:
        return _backward(params, X, y, lam, activations[0])
    return deep.backward(params, X, y, lam, activations)


def forward(params, X, activation="sigmoid"):
    """The logits z_{L+1} (z3 for two layers).

    Args:
      params: {"W1": (D, H), "b1": (H,), "W2": (H, K), "b2": (K,)}, or W1, b1, …, WL, bL.
      X: inputs, (N, D), the same float dtype as params.
      activation: a name from ACTIVATIONS for every hidden layer, or a sequence of L − 1 names.

    Returns:
      z_{L+1}, (N, K).
    """
    return deep.forward(*check_forward_inputs(params, X, activation))[1]


def loss(params, X, y, lam=0.0, activation="sigmoid"):
    """J (lam = 0) or J~ = J + lam Σ_l ‖W_l‖².

    Args:
      params: {"W1": (D, H), "b1": (H,), "W2": (H, K), "b2": (K,)}, or W1, b1, …, WL, bL.
      X: inputs, (N, D), the same float dtype as params.
      y: integer labels in [0, K), (N,).
      lam: λ >= 0.
      activation: a name from ACTIVATIONS for every hidden layer, or a sequence of L − 1 names.

    Returns:
      The mean cross-entropy (plus the penalty), a scalar of the input dtype.
    """
    return unchecked_loss(*check_loss_inputs(params, X, y, lam, activation))


def unchecked_loss(params, X, y, lam, activations):
    """`loss` for inputs already checked by `validate.check_loss_inputs`.

    For callers that evaluate the loss many times at nearby points, such as the
    finite-difference witness, and have checked the inputs once.
    """
    _, z_out = deep.forward(params, X, activations)
    return -np.mean(log_softmax(z_out)[np.arange(X.shape[0]), y]) + deep.penalty(params, lam)


def value_and_grad(params, X, y, lam=0.0, activation="sigmoid"):
    """The loss and its gradient with respect to every parameter.

    Args: as for `loss`.

    Returns:
      (J~, grads), grads a dict with the keys and shapes of params.
    """
    return fast.value_and_grad(*check_loss_inputs(params, X, y, lam, activation))


def grad(params, X, y, lam=0.0, activation="sigmoid"):
    """The gradient of J~ with respect to every parameter.

    Args: as for `loss`.

    Returns:
      {"W1": (D, H), "b1": (H,), "W2": (H, K), "b2": (K,)}, or the keys and shapes of a deeper params.
    """
    return value_and_grad(params, X, y, lam, activation)[1]


def derivation_grad(params, X, y, lam=0.0, activation="sigmoid"):
    """`grad` computed by the line-by-line derivation rather than the in-place fast path.

    Args and returns: as for `grad`.
    """
    return _derivation(*check_loss_inputs(params, X, y, lam, activation))[1]


def stages(params, X, y, activation="sigmoid"):
    """The chain rule's intermediate quantities, for checking a derivation step by step.

    Args: as for `loss` (λ does not reach them).

    Returns:
      {"delta3": ∂J/∂z3 (N, K), "delta2": ∂J/∂z2 (N, H)}; for L layers,
      "delta2" … "delta{L+1}", δ_l = ∂J/∂z_l of shape (N, width of z_l).
    """
    return _derivation(*check_loss_inputs(params, X, y, 0.0, activation))[2]
