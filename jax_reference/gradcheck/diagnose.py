"""What kind of mistake a wrong parameter looks like, in words a learner can act on.

Each parameter's failing cases are tested against explanations, most specific
first: the candidate raised; a structural fault (missing, shape, dtype); the
candidate is c · (data term) + p · λθ for constants a derivation gets wrong
(a factor N, a sign, λW for 2λW, a regularised bias); a known slip in δ2 (φ
where φ' belongs, φ' left out); an error seen only with one activation, only
at relu kinks, or only with λ > 0 or λ = 0. What none explains is described by
where it happens and how large it is.
"""

from fractions import Fraction

import numpy as np

import jax_reference as jr
from jax_reference.tolerances import tolerance
from manual_grad.activations import TABLE

EXPECTED_SHAPES = {"W1": "(D, H)", "b1": "(H,)", "W2": "(H, K)", "b2": "(K,)", "delta3": "(N, K)", "delta2": "(N, H)"}
PRIME = {"sigmoid": "a2 (1 − a2)", "tanh": "1 − a2²", "relu": "1 where z2 > 0, else 0"}
# A fit "explains" a candidate when its residual is within this many comparison tolerances.
FIT_SLACK = 100


def _close(x, target, rtol=1e-3):
    return abs(x - target) <= rtol * max(1.0, abs(target))


def _fraction(c):
    """1/2 for 0.5; a coefficient of 1 is written as nothing (λW, not 1λW)."""
    f = Fraction(c).limit_denominator(8)
    if not _close(c, float(f)):
        return f"{c:.4g}"
    return {"1": "", "-1": "−"}.get(str(f), str(f))


def _shape_words(name, got, case):
    dims = {"N": case.N, "D": case.D, "H": case.H, "K": case.K}
    expected = EXPECTED_SHAPES[name]
    sizes = tuple(dims[s] for s in expected.strip("(,)").replace(" ", "").split(",") if s)
    where = f"returned shape {tuple(got)}, expected {expected} = {sizes}"
    if len(got) == 2 and tuple(got) == sizes[::-1] and len(sizes) == 2:
        return f"transposed: {where}"
    if len(sizes) == 1 and tuple(got) == (case.N, sizes[0]):
        return f"the sum over the N = {case.N} examples is missing: {where}"
    if len(sizes) == 1 and tuple(got) in ((1, sizes[0]), (sizes[0], 1)):
        return f"not 1-D: {where} (sum without keepdims)"
    return f"wrong shape: {where}"


def _fit(g, data_part, penalty_direction, rtol):
    """(c, p) with g ≈ c · data_part + p · penalty_direction, or None where that does not explain g.

    c (or p) is None where its direction is zero, so that nothing can be said of it.
    """
    directions = [data_part, penalty_direction]
    used = [i for i, d in enumerate(directions) if d is not None and np.linalg.norm(d) > 0]
    if not used:
        return None
    A = np.stack([directions[i].ravel() for i in used], axis=1)
    coef, *_ = np.linalg.lstsq(A, g.ravel().astype(np.float64), rcond=None)
    if np.linalg.norm(g.ravel() - A @ coef) > FIT_SLACK * rtol * np.linalg.norm(A @ coef):
        return None
    fitted = [None, None]
    for i, c in zip(used, coef):
        fitted[i] = float(c)
    return tuple(fitted)


def _factor_words(cs, Ns):
    """Words for a data term scaled by c in each case (N examples), or None where c = 1."""
    if all(_close(c, 1) for c in cs):
        return None
    if all(_close(c, -1) for c in cs):
        return "sign flipped: the candidate is −1 × the reference"
    if all(_close(c, N) for c, N in zip(cs, Ns)) and any(N > 1 for N in Ns):
        return "N times too large: a sum over the examples where J takes the mean (the 1/N is missing)"
    if all(_close(c, 1 / N) for c, N in zip(cs, Ns)) and any(N > 1 for N in Ns):
        return "N times too small: divided by N once too often"
    if all(_close(c, cs[0]) for c in cs):
        return f"off by a constant factor {_fraction(cs[0]) or 1}"
    return f"off by a factor that varies from case to case ({min(cs):.3g} to {max(cs):.3g})"


def _penalty_words(name, ps):
    is_bias = name.startswith("b")
    expected = 0.0 if is_bias else 2.0
    if all(_close(p, expected, 1e-2) for p in ps):
        return None
    if not all(_close(p, ps[0], 1e-2) for p in ps):
        return f"wrong only when λ > 0, by an amount that is not a multiple of λ{name}"
    p = ps[0]
    if is_bias:
        return f"regularises the bias (adds {_fraction(p)}λ{name}): biases are not regularised"
    if _close(p, 0, 1e-2):
        return f"the penalty gradient 2λ{name} is missing"
    return f"penalty gradient is {_fraction(p)}λ{name}, expected 2λ{name} (the derivative of λ‖{name}‖²)"


def _delta3(r):
    """The reference δ3 of a case, computed once when a diagnosis needs it."""
    if "delta3" not in r.arrays:
        a = r.arrays
        r.arrays["delta3"] = np.asarray(jr.stages(a["params"], a["X"], a["y"], r.case.activation)["delta3"], np.float64)
    return r.arrays["delta3"]


def _delta2_slips(r):
    """{words: {"W1", "b1"}} as they come out with two common slips in δ2 = (δ3 W2ᵀ) ⊙ φ'(z2)."""
    params = {k: v.astype(np.float64) for k, v in r.arrays["params"].items()}
    X = r.arrays["X"].astype(np.float64)
    phi, _ = TABLE[r.case.activation]
    z2 = X @ params["W1"] + params["b1"]
    back = _delta3(r) @ params["W2"].T
    slips = {
        "φ(z2) where φ'(z2) belongs in δ2 = (δ3 W2ᵀ) ⊙ φ'(z2)": back * phi(z2),
        "φ'(z2) left out of δ2 = (δ3 W2ᵀ) ⊙ φ'(z2)": back,
    }
    return {words: {"W1": X.T @ delta2 + 2 * r.case.lam * params["W1"], "b1": delta2.sum(axis=0)}
            for words, delta2 in slips.items()}


def _only_when(failing, results, ok, key):
    """The values of `key` that every failing case has and every passing case lacks, or None."""
    bad = {key(r) for r in failing}
    if bad != {key(r) for r in results} and all(ok(r) for r in results if key(r) not in bad):
        return sorted(bad, key=str)
    return None


def diagnose(name, results, dtype, kind="parameters"):
    """A diagnosis in words for one parameter (kind="parameters") or stage (kind="stages")."""
    def comparison(r):
        return getattr(r, kind)[name]

    failing = [r for r in results if not comparison(r).ok]
    if not failing:
        return "agrees"
    raised = [r for r in failing if (r.error if kind == "parameters" else r.stage_error)]
    if raised:
        error = raised[0].error if kind == "parameters" else raised[0].stage_error
        more = f" (and in {len(raised) - 1} more)" if len(raised) > 1 else ""
        return f"the candidate raised {error} in {raised[0].case.describe()}{more}"
    first = {}
    for r in failing:
        first.setdefault(comparison(r).problem, r)
    if "missing" in first:
        return f"missing from the candidate's result (no key {name!r})"
    if "not an array" in first:
        return f"not a numeric array (got {comparison(first['not an array']).dtype})"
    if "shape" in first:
        return _shape_words(name, comparison(first["shape"]).shape, first["shape"].case)
    if "not finite" in first:
        c = comparison(first["not finite"])
        return (f"not finite: {c.candidate_value} at entry {c.worst_index} (reference {c.reference_value:.6g}) "
                f"in {first['not finite'].case.describe()}")
    if "dtype" in first:
        worst = max(comparison(r).rel_error for r in failing if comparison(r).problem == "dtype")
        return (f"the dtype is {comparison(first['dtype']).dtype} for {np.dtype(dtype).name} inputs "
                f"(values off by up to {worst:.2g} relative)")

    failing = [r for r in failing if comparison(r).problem == "values"]
    rtol = tolerance(dtype).rtol
    stages = kind == "stages"

    def candidate_and_data_part(r):
        a = r.arrays["stages"] if stages else r.arrays
        data_part = a["reference"][name] if stages else a["data_part"][name]
        return np.asarray(a["candidate"][name], np.float64), data_part

    fits = []
    for r in failing:
        penalty_direction = None
        if not stages and r.case.lam > 0:
            penalty_direction = r.case.lam * r.arrays["params"][name].astype(np.float64)
        fits.append(_fit(*candidate_and_data_part(r), penalty_direction, rtol))
    if all(f is not None for f in fits):
        cs = [(f[0], r.case.N) for f, r in zip(fits, failing) if f[0] is not None]
        ps = [f[1] for f in fits if f[1] is not None]
        words = [_factor_words(*zip(*cs)) if cs else None, _penalty_words(name, ps) if ps else None]
        if any(words):
            return "; ".join(w for w in words if w)

    if name in ("W1", "b1") and not stages:
        matches = None
        for r in failing:
            g, _ = candidate_and_data_part(r)
            hits = {words for words, slip in _delta2_slips(r).items()
                    if np.linalg.norm(g - slip[name]) <= FIT_SLACK * rtol * np.linalg.norm(slip[name])}
            matches = hits if matches is None else matches & hits
        if matches:
            return f"matches {sorted(matches)[0]}"

    def ok(r):
        return comparison(r).ok

    if _only_when(failing, results, ok, lambda r: r.case.kinks) == [True]:
        return "wrong only where z2 has exact zeros (relu kinks): jax.nn.relu takes φ'(0) = 0, so use z2 > 0, not z2 >= 0"
    bad = _only_when(failing, results, ok, lambda r: r.case.activation)
    if bad:
        return (f"wrong only with activation {' and '.join(bad)}: check its derivative φ'(z2) ("
                + "; ".join(f"{a}: {PRIME[a]}" for a in bad) + ")")
    bad = _only_when(failing, results, ok, lambda r: r.case.lam > 0)
    if bad:
        return "wrong only when λ > 0: look at the regularisation term" if bad == [True] else "wrong only when λ = 0"

    worst = max(failing, key=lambda r: comparison(r).abs_error)
    c = comparison(worst)
    return (f"wrong in {len(failing)} of {len(results)} cases, with no pattern among those tried; largest error at "
            f"entry {c.worst_index}: {c.candidate_value:.6g} against {c.reference_value:.6g} in {worst.case.describe()}")


def hint(wrong):
    """Where to look, from which parameters are wrong: the chain rule ties them together."""
    wrong = set(wrong)
    if wrong == {"W1", "b1", "W2", "b2"}:
        return "every parameter is wrong: start with δ3 = ∂J/∂z3 = (a3 − Δ)/N, which all of them share"
    if wrong == {"W1", "b1"}:
        return "W2 and b2 agree, so δ3 is right: look at δ2 = (δ3 W2ᵀ) ⊙ φ'(z2)"
    if wrong == {"W1"}:
        return "b1 agrees, so δ2 is right: look at ∂J/∂W1 = Xᵀ δ2 (and its penalty 2λW1)"
    if wrong == {"b1"}:
        return "W1 agrees, so δ2 is right: look at ∂J/∂b1 = Σ_i δ2[i, :]"
    if wrong == {"W2"}:
        return "b2 agrees, so δ3 is right: look at ∂J/∂W2 = a2ᵀ δ3 (and its penalty 2λW2)"
    if wrong == {"b2"}:
        return "W2 agrees, so δ3 is right: look at ∂J/∂b2 = Σ_i δ3[i, :]"
    return None
