"""How closely a gradient must agree with the reference: one table, keyed by dtype.

A comparison passes when, for each parameter P,

    ‖candidate − reference‖_F <= atol + rtol · (‖reference‖_F + s_P)      (normwise)

s_P is the size of the terms that rounding errors scale with. The softmax
gradient δ_{L+1} = (a_{L+1} − Δ)/N cancels where a_{L+1} is nearly one-hot:
it may be tiny while each of a_{L+1} and Δ is of order 1, so any correct
implementation computes it with an error of a few ulps of 1/N per entry,
whatever its size; normwise, u · e_{L+1} with e_{L+1} = ‖(a_{L+1} + Δ)/N‖_F
<= sqrt(2/N). Each step of the backward recursion δ_l = (δ_{l+1} W_lᵀ) ⊙ φ'(z_l)
carries that error on, multiplied by at most ‖W_l‖_2 (the spectral norm:
‖E Wᵀ‖_F <= ‖E‖_F ‖W‖_2) and max |φ'| <= 1 (sigmoid 1/4; tanh, relu,
leaky_relu, softplus 1):

    e_l = e_{l+1} ‖W_l‖_2                      (the error of δ_l)
    s_{W_l} = ‖a_l‖ e_{l+1}                    (∂J/∂W_l = a_lᵀ δ_{l+1})
    s_{b_l} = sqrt(N) e_{l+1}                  (∂J/∂b_l = Σ_i δ_{l+1}[i, :])

with ‖a_1‖ = ‖X‖ and ‖a_{l+1}‖ <= ‖a_l‖ ‖W_l‖_2 + sqrt(N) ‖b_l‖, since
|φ(z)| <= |z| for tanh, relu and leaky_relu, |φ(z)| <= |z| + log 2 for
softplus (adding log 2 · sqrt(N H)), and ‖a_{l+1}‖ <= sqrt(N H) for sigmoid
and tanh, whose values lie in [−1, 1]. For two layers:

    s_b2 = sqrt(2)                  s_W2 = ‖a2‖ sqrt(2/N)
    s_b1 = sqrt(2) ‖W2‖_2           s_W1 = ‖X‖ ‖W2‖_2 sqrt(2/N)

Without s_P, two correct float32 implementations differ by over 1% relative
on a nearly one-hot batch. The depth enters only through the product of the
‖W_l‖_2 above a layer, the size by which the chain rule itself scales that
layer's gradient.

Large logits add one term: z3 itself is rounded by about u |z3|, which moves
each a3 entry by that much relative. gradcheck's large-logit cases put the
largest logit at 100 in float32 (1000 in float64); there the worst measured
over 2000 cases uses 5.9% of the float32 bound (python -m benchmarks.agreement
--large-logits), a margin of 17 rather than two orders. Logits far beyond 100
in float32 would need an s_P that grows with |z3|.

Derivation mistakes (a wrong sign, a missing 1/N, a transpose, φ instead of
φ') give errors of the order of ‖reference‖ itself, orders of magnitude above
either row.
"""

from typing import NamedTuple

import numpy as np


class Tolerance(NamedTuple):
    rtol: float
    atol: float


TOLERANCES = {
    # The project's promise: agreement to 1e-10. Two correct float64
    # implementations summing in different orders differ by a few ulps
    # (u = 1.1e-16); the worst measured over the test suite's random cases is
    # about 2e-14 relative to ‖reference‖ alone, so 1e-10 leaves over three
    # orders of margin. atol: a floor for exact zeros, ~1000 u at order 1.
    np.dtype(np.float64): Tolerance(rtol=1e-10, atol=1e-13),
    # float32, u = 6.0e-8: the worst measured over 6000 random cases (N, D, H,
    # K in 1..32, weights up to 3× their usual scale, λ up to 1e3) is 1.4 u
    # relative to ‖reference‖ + s_P. 1e-5 (~170 u) leaves two orders of margin
    # for longer sums, and is still three orders below a derivation mistake.
    np.dtype(np.float32): Tolerance(rtol=1e-5, atol=1e-7),
}

# Central finite differences, always in float64, along a unit direction v:
#   (J(θ + h v) − J(θ − h v)) / 2h = ⟨∇J, v⟩ + O(h² J''') + O(u |J| / h).
# h = 1e-5 balances the two (1e-10 and 1e-11 relative); FD_RTOL, applied to
# the scale ‖∇J‖ + |J|, leaves room for third derivatives up to ~1e4.
FD_STEP = 1e-5
FD_RTOL = 1e-6


class Symmetry(NamedTuple):
    step: float
    rtol: float


# --integrable: the symmetry of a candidate gradient's Jacobian J, from the candidate's own central differences
# in its own dtype, (g(θ + h d) − g(θ − h d)) / 2h = J d + O(h² g‴) + O(u ‖g‖ / h). An asymmetry is judged
# against rtol · (‖J u‖ + ‖J v‖) plus that rounding term, at h and at h/2, and must be the same at both (a true
# asymmetry does not depend on h; the differences' error falls 4× or grows 2×). A derivation mistake that makes
# g the gradient of no loss is of the order of J itself. Measured over 30 cases each of the right gradients of
# examples/models (an MLP, softmax and logistic regression, an SVM), the largest asymmetry at one step was
# 1.6e-4 of the bound in float64 and 1.6e-2 in float32, but for the SVM's kinks (7.9 at one step, 0.18 at the
# other: a kink crossed at h only); the MLP with tanh' as 1 − a fails in both dtypes at 1e-2 to 7e-2 of the scale.
SYMMETRY = {
    # h = 1e-5 as FD_STEP: truncation ~1e-10, rounding ~1e-11 of ‖g‖; 1e-6 leaves room for g‴ up to ~1e4.
    np.dtype(np.float64): Symmetry(step=1e-5, rtol=1e-6),
    # u = 6e-8: h = 1e-2 keeps rounding at ~6e-6 of ‖g‖ and truncation at ~1e-4 g‴; 1e-2 leaves room for both.
    np.dtype(np.float32): Symmetry(step=1e-2, rtol=1e-2),
}


def tolerance(dtype):
    """The row of TOLERANCES for `dtype` (float32 or float64)."""
    return TOLERANCES[np.dtype(dtype)]


def rounding_scales(params, X, activation):
    """s_P for each parameter W_l, b_l and each stage δ_l (see the module docstring).

    activation: one name for every hidden layer, or one per hidden layer.
    """
    L = len(params) // 2
    activations = (activation,) * (L - 1) if isinstance(activation, str) else tuple(activation)
    N = X.shape[0]

    def norm(a):
        return float(np.linalg.norm(np.asarray(a, np.float64)))

    # ‖W‖₂ as np.linalg.norm(W, 2) takes it, the largest singular value, without its axis bookkeeping (a third
    # of a gradcheck case's own time).
    spectral = {l: float(np.linalg.svd(np.asarray(params[f"W{l}"], np.float64), compute_uv=False).max())
                for l in range(1, L + 1)}
    a_norm = {1: norm(X)}
    for l in range(1, L):
        H = params[f"W{l}"].shape[1]
        bound = a_norm[l] * spectral[l] + np.sqrt(N) * norm(params[f"b{l}"])
        if activations[l - 1] == "softplus":
            bound += np.log(2) * np.sqrt(N * H)
        if activations[l - 1] in ("sigmoid", "tanh"):
            bound = min(bound, np.sqrt(N * H))
        a_norm[l + 1] = bound
    e = {L + 1: np.sqrt(2 / N)}
    for l in range(L, 1, -1):
        e[l] = e[l + 1] * spectral[l]
    scales = {f"delta{l}": e[l] for l in e}
    for l in range(1, L + 1):
        scales[f"W{l}"] = a_norm[l] * e[l + 1]
        scales[f"b{l}"] = np.sqrt(N) * e[l + 1]
    return scales


def value_scales(params, X):
    """s for the logits z_{L+1} and for J, whose terms cancel as the gradients' do: z_{L+1} may be far smaller
    than the products it sums, and J = mean_i (logsumexp(z_i) − z_i[y_i]) far smaller than either (a confident,
    right batch). Entry by entry, in units of u: z_{l+1} = a_l W_l + b_l is rounded by its terms' size
    T_l = |a_l| |W_l| + |b_l|, and carries a_l's rounding R_l through |W_l| (|φ'| <= 1), so R_{l+1} = T_l + R_l |W_l|;
    |a_{l+1}| <= T_l + log 2 for every activation (|φ(z)| <= |z| + log 2, sigmoid's values in [0, 1] included).
    J's rounding is that of each row's largest logit, twice (the logsumexp and z_i[y_i]), plus the logsumexp's own:

        s_z = ‖R_{L+1}‖_F        s_J = (2/N) Σ_i max_k (T_L + R_{L+1})[i, k] + log K

    The penalty λ(‖W‖²) is a sum of squares: it cancels nothing. Returns {"z": s_z, "J": s_J}.
    """
    L = len(params) // 2
    a, carried = np.abs(np.asarray(X, np.float64)), 0.0
    for l in range(1, L + 1):
        W, b = (np.abs(np.asarray(params[f"{p}{l}"], np.float64)) for p in ("W", "b"))
        terms = a @ W + b
        carried = terms + carried @ W if l > 1 else terms
        a = terms + np.log(2)
    N, K = carried.shape
    return {"z": float(np.linalg.norm(carried)), "J": float(2 * np.max(terms + carried, axis=1).sum() / N + np.log(K))}


def normwise_error(candidate, reference):
    """(‖c − r‖, ‖c − r‖ / ‖r‖) in float64; the relative part is inf when ‖r‖ = 0 < ‖c − r‖."""
    diff = float(np.linalg.norm(np.asarray(candidate, np.float64) - np.asarray(reference, np.float64)))
    scale = float(np.linalg.norm(np.asarray(reference, np.float64)))
    rel = diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf"))
    return diff, rel


# A reference below this many units of rounding of its scale s_P has digits that roundoff decides:
# relative errors are taken against no less than it, so that the digits gradcheck prints are the mistake's.
RELATIVE_FLOOR = 1e6


def measure(candidate, reference, dtype, scale=0.0):
    """(agrees, ‖c − r‖, reported relative error, the bound) of one array, each norm taken once.

    agrees: the normwise test above; `scale` is the array's s_P (0 for values without cancellation).
    The relative error is ‖c − r‖ / max(‖r‖, RELATIVE_FLOOR · u · s_P): a reference that rounding
    dominates (a cancelling δ3, an exact zero) is measured against its rounding scale instead.
    """
    reference = np.asarray(reference, np.float64)
    return measure_gap(np.asarray(candidate, np.float64) - reference, reference, dtype, scale)


def measure_gap(gap, reference, dtype, scale=0.0):
    """`measure`, from c − r (or |c − r|) already taken in float64 and a float64 reference."""
    tol = tolerance(dtype)
    diff = float(np.linalg.norm(gap))
    size = float(np.linalg.norm(reference))
    floor = max(size, RELATIVE_FLOOR * np.finfo(np.dtype(dtype)).eps * scale)
    rel = diff / floor if floor > 0 else (0.0 if diff == 0 else float("inf"))
    bound = tol.atol + tol.rtol * (size + scale)
    return bool(diff <= bound), diff, rel, bound


def agrees(candidate, reference, dtype, scale=0.0):
    """The normwise test above, for one array; `scale` is its s_P (0 for values without cancellation)."""
    return measure(candidate, reference, dtype, scale)[0]


def product_scales(params, v, X, y, activation):
    """s_P for a Hessian- or Gauss-Newton-vector product (second_order.py): the norm of the product computed
    with the absolute value of every term, line by line (manual_grad/second_order.py's lines, each sum and
    difference taken as a sum of sizes, δ_{L+1} as (a_{L+1} + Δ)/N). Rounding errors of any correct
    implementation are bounded by a modest multiple of u times these sizes: the standard bound
    |fl(a·b) − a·b| <= γ_n |a|·|b| of a dot product, carried along each line. The products' own size may be far
    smaller where terms cancel (the softmax's Jacobian, the φ'' term against the others), as for the gradient.

    The same TOLERANCES rows serve: over 1000 random networks (python -m benchmarks.agreement --deep --products:
    depth 2 to 6, widths 1 to 32, mixed activations, weights up to 3× their usual scale, λ up to 1e3), the worst
    used 1.1% of the float32 bound and 8e-6 of the float64 one, while ‖mg − jr‖ / ‖jr‖ alone reached 1.6e-3 in
    float32 (cancellation: without s_P the products would fail). A mistake (a term dropped, a factor 2) is of
    the order of ‖reference‖ itself.

    activation: one name for every hidden layer, or one per hidden layer.
    """
    from manual_grad.activations import SECOND, TABLE, log_softmax

    L, N = len(params) // 2, X.shape[0]
    activations = (activation,) * (L - 1) if isinstance(activation, str) else tuple(activation)
    P = {k: np.abs(np.asarray(p, np.float64)) for k, p in params.items()}
    V = {k: np.abs(np.asarray(d, np.float64)) for k, d in v.items()}
    a, Ra, Rz = {1: np.asarray(X, np.float64)}, {1: np.zeros(X.shape)}, {}
    for l in range(1, L):
        z = a[l] @ np.asarray(params[f"W{l}"], np.float64) + np.asarray(params[f"b{l}"], np.float64)
        a[l + 1] = TABLE[activations[l - 1]][0](z)
        Rz[l + 1] = Ra[l] @ P[f"W{l}"] + np.abs(a[l]) @ V[f"W{l}"] + V[f"b{l}"]
        Ra[l + 1] = np.abs(TABLE[activations[l - 1]][1](a[l + 1])) * Rz[l + 1]
    z_out = a[L] @ np.asarray(params[f"W{L}"], np.float64) + np.asarray(params[f"b{L}"], np.float64)
    Rz_out = Ra[L] @ P[f"W{L}"] + np.abs(a[L]) @ V[f"W{L}"] + V[f"b{L}"]
    a_out = np.exp(log_softmax(z_out))
    delta = {L + 1: (a_out + np.eye(z_out.shape[1])[y]) / N}
    R_delta = {L + 1: (a_out * Rz_out + a_out * (a_out * Rz_out).sum(axis=1, keepdims=True)) / N}
    scales = {}
    for l in range(L, 0, -1):
        scales[f"W{l}"] = np.linalg.norm(np.abs(a[l]).T @ R_delta[l + 1] + Ra[l].T @ delta[l + 1])
        scales[f"b{l}"] = np.linalg.norm(R_delta[l + 1].sum(axis=0))
        if l > 1:
            prime = TABLE[activations[l - 2]][1](a[l])
            second = np.abs(SECOND[activations[l - 2]](a[l], prime))
            back = delta[l + 1] @ P[f"W{l}"].T
            delta[l] = back * np.abs(prime)
            R_delta[l] = ((R_delta[l + 1] @ P[f"W{l}"].T + delta[l + 1] @ V[f"W{l}"].T) * np.abs(prime)
                          + back * second * Rz[l])
    return {k: float(s) for k, s in scales.items()}
