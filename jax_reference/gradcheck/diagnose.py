"""What kind of mistake a wrong parameter looks like, in words a learner can act on.

Each parameter's failing cases are tested against explanations, most specific
first: a structural fault (missing, shape, another parameter's values, dtype);
the candidate is c · (data term) + p · λθ, with c and p following a law in N
and K that a derivation gets wrong (a factor N, a sign, λW for 2λW, 2λW/N, a
regularised bias); a known slip in δ3 or δ2; the activation argument ignored;
an error seen only with one activation, only at relu kinks, only with large
logits, or only with λ > 0 or λ = 0. What none explains is described by where
it happens and how large it is. Calls that gave no result at all (the
candidate raised, exited, crashed, timed out or returned a non-dict) are
reported once for the whole report, not here.
"""

import re
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from jax_reference.tolerances import agrees, tolerance
from manual_grad.activations import KINKED
from manual_grad.validate import width_names

from . import slips
from .sweep import NO_VERDICT

# φ' of each activation, written through a = φ(z) where it helps.
PRIME = {"sigmoid": "{a} (1 − {a})", "tanh": "1 − {a}²", "relu": "1 where {z} > 0, else 0",
         "leaky_relu": "1 where {z} >= 0, else 0.01", "softplus": "1 − e^−{a}, the sigmoid of {z}"}
# The derivative at the kink, as the JAX function the reference uses takes it.
KINK_WORDS = {"relu": "jax.nn.relu takes φ'(0) = 0, so use {z} > 0, not {z} >= 0",
              "leaky_relu": "jax.nn.leaky_relu takes φ'(0) = 1, so use {z} >= 0, not {z} > 0"}
# A fit "explains" a candidate when its residual is within this many comparison tolerances.
FIT_SLACK = 100
# Laws a coefficient may follow across cases, simplest first: (name, law of the case's dims). The seed
# model's cases know N and K; a user's sampled cases know N, the batch size, when they have data arrays.
LAWS = [("", lambda d: 1), ("N", lambda d: d["N"]), ("1/N", lambda d: 1 / d["N"]), ("K", lambda d: d["K"]),
        ("1/K", lambda d: 1 / d["K"]), ("N/K", lambda d: d["N"] / d["K"]), ("K/N", lambda d: d["K"] / d["N"])]


@dataclass(frozen=True)
class Diagnosis:
    words: str
    kind: str  # a stable category: "agrees", "no result", "shape", "dtype", "factor", "slip", ...
    cause: str | None = None  # a likely cause shared by parameters, said once in the hint


def _seed(cases):
    """Whether these are the seed model's cases (plan.Case), which know λ, activations, kinks and logits."""
    return all(hasattr(c, "activations") for c in cases)


def _close(x, target, rtol=1e-3):
    return abs(x - target) <= rtol * max(1.0, abs(target))


def _fraction(c):
    """'1/2' for 0.5, '' for 1 (λW, not 1λW), '−' for −1, else 4 digits (a small ratio is a slip, 1e300 is not)."""
    f = Fraction(c).limit_denominator(8)
    if abs(f.numerator) > 100 or not _close(c, float(f)):
        return f"{c:.4g}"
    return {"1": "", "-1": "−"}.get(str(f), str(f))


def _law(values, cases):
    """(α, law) with value ≈ α · law(dims) in every case, the simplest law that fits; None where none does.

    A law other than the constant must take two values among the cases, or it could not be told apart.
    """
    for name, law in LAWS:
        try:
            sizes = [law(c.dims) for c in cases]
        except KeyError:  # the cases do not know that dimension
            continue
        if name and len(set(sizes)) < 2:
            continue
        alphas = [v / s for v, s in zip(values, sizes)]
        if all(_close(a, alphas[0]) for a in alphas):
            return alphas[0], name
    return None


def _scaled(alpha, law, symbol):
    """α · law · symbol written as a person would: 2λW1/N, NλW1, λW1."""
    numerator, _, denominator = law.partition("/")
    numerator = "" if numerator == "1" else numerator
    return f"{_fraction(alpha)}{numerator}{symbol}" + (f"/{denominator}" if denominator else "")


def _factor_words(cs, cases):
    """Words for a data term scaled by c in each case, or None where c = 1."""
    found = _law(cs, cases)
    if found is None:
        known = [d for d in ("N", "K") if all(d in c.dims for c in cases)]
        return (f"off by a factor that varies from case to case ({min(cs):.3g} to {max(cs):.3g})"
                + (f" and follows no law in {' and '.join(known)}" if known else ""))
    alpha, law = found
    if _close(alpha, 1) and law == "":
        return None
    if _close(alpha, -1) and law == "":
        return "sign flipped: the candidate is −1 × the reference"
    if _close(alpha, 1) and law == "N":
        return "N times too large: a sum over the examples where J takes the mean (the 1/N is missing)"
    if _close(alpha, 1) and law == "1/N":
        return "N times too small: divided by N once too often"
    if _close(alpha, 1) and law == "N/K":
        return "N/K times the reference: divided by K, the number of classes, where J's mean divides by N"
    if law == "":
        return f"off by a constant factor {_fraction(alpha) or 1}"
    return f"off by a factor {_scaled(alpha, law, '') or law}"


def _proportional_words(name, ps, cases):
    """A user's model: words for an error p θ proportional to the parameter θ itself."""
    found = _law(ps, cases)
    if found is None:
        return (f"off by a multiple of {name} itself whose coefficient varies from case to case ({min(ps):.3g} to "
                f"{max(ps):.3g}), as a penalty term's gradient would be: check its coefficient")
    alpha, law = found
    return (f"off by {_scaled(alpha, law, name) or name}, a multiple of {name} itself, as a penalty term's gradient "
            "would be: check its coefficient (the gradient of λ‖θ‖² is 2λθ)")


def _penalty_words(name, ps, cases):
    """Words for a penalty gradient p λθ in each case, or None where p is right (2 for weights, 0 for biases)."""
    if not _seed(cases):
        return None if all(_close(p, 0.0, 1e-2) for p in ps) else _proportional_words(name, ps, cases)
    is_bias = name.startswith("b")
    if all(_close(p, 0.0 if is_bias else 2.0, 1e-2) for p in ps):
        return None
    symbol = f"λ{name}"
    found = _law(ps, cases)
    if found is None:
        return (f"wrong only when λ > 0: the error is a multiple of λ{name} whose coefficient varies from case to "
                f"case ({min(ps):.3g} to {max(ps):.3g}) and follows no law in N and K")
    alpha, law = found
    if is_bias:
        return f"regularises the bias (adds {_scaled(alpha, law, symbol)}): biases are not regularised"
    if law == "" and _close(alpha, 0, 1e-2):
        return f"the penalty gradient 2λ{name} is missing"
    words = f"penalty gradient is {_scaled(alpha, law, symbol)}, expected 2λ{name} (the derivative of λ‖{name}‖²)"
    if law == "1/N":
        words += ": the penalty is added to J~ once, not averaged over the examples"
    elif law == "N":
        words += ": the penalty is added to J~ once, not once per example"
    return words


def _fit(g, data_part, penalty_direction, rtol):
    """(c, p) with g ≈ c · data_part + p · penalty_direction, or None where that does not explain g.

    c (or p) is None where its direction is zero, or both are where the directions are parallel, so that
    nothing can be said of it.
    """
    directions = [data_part, penalty_direction]
    used = [i for i, d in enumerate(directions) if d is not None and np.linalg.norm(d) > 0]
    if not used:
        return None
    A = np.stack([directions[i].ravel() for i in used], axis=1)
    coef, _, rank, _ = np.linalg.lstsq(A, g.ravel().astype(np.float64), rcond=1e-8)
    if np.linalg.norm(g.ravel() - A @ coef) > FIT_SLACK * rtol * np.linalg.norm(A @ coef):
        return None
    fitted = [None, None]
    if rank == len(used):  # parallel directions (a parameter of one entry) explain g but cannot be told apart
        for i, c in zip(used, coef):
            fitted[i] = float(c)
    return tuple(fitted)


def _matches(g, target, rtol):
    return g.shape == target.shape and np.linalg.norm(g - target) <= FIT_SLACK * rtol * np.linalg.norm(target)


def expected_shape(name, case):
    """(the shape in symbols, e.g. "(H, K)", the sizes in this case) of a parameter W_l, b_l or stage delta_l."""
    names = width_names(case.L)
    l = int(re.sub(r"\D", "", name))
    if name.startswith("W"):
        symbols, sizes = (names[l - 1], names[l]), (case.widths[l - 1], case.widths[l])
    elif name.startswith("b"):
        symbols, sizes = (names[l],), (case.widths[l],)
    else:  # δ_l = ∂J/∂z_l, z_l of width widths[l − 1]
        symbols, sizes = ("N", names[l - 1]), (case.N, case.widths[l - 1])
    return "(" + ", ".join(symbols) + ("," if len(symbols) == 1 else "") + ")", sizes


def _shape_words(name, r, comparison):
    case, got = r.case, tuple(comparison.shape)
    if _seed([case]):
        expected, sizes = expected_shape(name, case)
    else:
        sizes = r.arrays["reference"][name].shape
        expected = str(sizes)
    where = f"returned shape {got}, expected {expected}" + (f" = {sizes}" if expected != str(sizes) else "")
    candidate = r.arrays["candidate"].get(name)
    for other, reference in r.arrays["reference"].items():
        if other != name and candidate is not None and _matches(candidate.astype(np.float64), reference, 1e-6):
            off_by_one = getattr(case, "L", 2) > 2 and name[0] == other[0] and abs(int(name[1:]) - int(other[1:])) == 1
            return Diagnosis(f"has {other}'s shape and values: {name} and {other} look swapped"
                             + (" (a layer index off by one?)" if off_by_one else "") + f" ({where})", "swapped")
    N = case.dims.get("N")
    if len(got) == 2 and got == tuple(sizes)[::-1] and len(sizes) == 2:
        return Diagnosis(f"transposed: {where}", "transposed")
    if N and got == (N, *sizes):
        return Diagnosis(f"the sum over the N = {N} examples is missing: {where}", "shape")
    if tuple(s for s in got if s != 1) == tuple(s for s in sizes if s != 1) and len(got) > len(sizes):
        return Diagnosis(f"extra dimensions of size 1: {where} (a sum with keepdims=True, or a column for a "
                         "vector)", "shape")
    return Diagnosis(f"wrong shape: {where}", "shape")


def _dtype_words(name, failing, comparison, dtype):
    first = failing[0]
    got = comparison(first).dtype
    # Judged at the looser tolerance of the two dtypes: whether the values are right apart from precision.
    loose = max((np.dtype(dtype), np.dtype(got)), key=lambda d: tolerance(d).rtol if d in (np.float32, np.float64) else 0)
    values_ok = all(agrees(r.arrays["candidate"][name], r.arrays["reference"][name], loose) for r in failing)
    words = (f"the dtype is {got} for {np.dtype(dtype).name} inputs "
             + ("(the values are right to its precision)" if values_ok else "(and the values are wrong too)"))
    kinds = {r.types.get(name, "") for r in failing}
    if any(k.startswith("jax") for k in kinds):
        cause = ("the candidate returns JAX arrays, and JAX computes in float32 unless x64 is on "
                 "(jax.config.update('jax_enable_x64', True)); or convert with np.asarray(g, dtype=X.dtype)")
    elif got == "float32" and np.dtype(dtype) == np.float64:
        cause = "something in the candidate computes in float32 (an astype, a float32 constant or array)"
    else:
        cause = "return each gradient in the dtype of its parameter"
    return Diagnosis(words, "dtype", cause)


def _not_finite_words(failing, comparison):
    r = failing[0]
    c = comparison(r)
    where = f"{c.candidate_value} at entry {c.worst_index} (reference {c.reference_value:.6g}) in {r.case.describe()}"
    if all(getattr(f.case, "large_logits", False) for f in failing):
        return Diagnosis(f"not finite where the reference is, only in cases with large logits: {where}. exp(z3) "
                         "overflows there: subtract each row's maximum from z3 before exp (softmax is unchanged by "
                         "the shift)", "overflow")
    return Diagnosis(f"not finite where the reference is: {where}", "not finite")


def _only_when(failing, results, ok, key):
    """The values of `key` that every failing case has and every passing case lacks, or None."""
    bad = {key(r) for r in failing}
    if bad != {key(r) for r in results} and all(ok(r) for r in results if key(r) not in bad):
        return sorted(bad, key=str)
    return None


def _value_words(name, failing, results, dtype, kind):
    """A Diagnosis for cases whose values (not their structure) are wrong."""
    rtol = tolerance(dtype).rtol
    stages = kind == "stages"

    def candidate_and_data_part(r):
        a = r.arrays["stages"] if stages else r.arrays
        data_part = a["reference"][name] if stages else a["data_part"][name]
        return np.asarray(a["candidate"][name], np.float64), data_part

    seed = _seed([r.case for r in results])
    fits = []
    for r in failing:
        penalty_direction = None
        # A single entry cannot tell a penalty's share from the data term's: in a user's model, which need
        # have no penalty, it is fitted by the data term alone; in the seed model, with λ > 0, by neither.
        if not stages and (r.case.lam > 0 if seed else np.size(r.arrays["params"][name]) > 1):
            # The seed model's penalty is λθ; in a user's model, anything proportional to θ.
            penalty_direction = (r.case.lam if seed else 1.0) * np.asarray(r.arrays["params"][name], np.float64)
        fits.append(_fit(*candidate_and_data_part(r), penalty_direction, rtol))
    offset = _offset_words(name, failing, lambda r: candidate_and_data_part(r)[0],
                           lambda r: _reference(r, name, stages), rtol, seed and not stages)
    if all(f is not None for f in fits):
        data = [(f[0], r.case) for f, r in zip(fits, failing) if f[0] is not None]
        penalty = [(f[1], r.case) for f, r in zip(fits, failing) if f[1] is not None]
        if offset and data and _law(*zip(*data)) is None:
            return offset  # a lawless factor, where a constant offset explains every case
        words = [_factor_words(*zip(*data)) if data else None, _penalty_words(name, *zip(*penalty)) if penalty else None]
        if not seed and words[0]:
            # A user's loss mixes its own penalty into the reference: with a wrong factor on the whole, a
            # multiple of θ is that factor's trace on the penalty, not a mistake of its own.
            words[1] = None
        if any(words):
            return Diagnosis("; ".join(w for w in words if w), "penalty" if not words[0] else "factor")

    if offset:
        return offset
    transposed = [_matches(candidate_and_data_part(r)[0], _reference(r, name, stages).T, rtol) for r in failing]
    if all(transposed) and all(np.ndim(_reference(r, name, stages)) == 2 for r in failing):
        return Diagnosis("transposed: the values are the reference's transpose (square here, so the shape could "
                         "not tell)", "transposed")
    if not stages:
        for r in failing:
            g, _ = candidate_and_data_part(r)
            for other, reference in r.arrays["reference"].items():
                if other != name and _matches(g, reference, rtol):
                    return Diagnosis(f"has {other}'s values: {name} and {other} look swapped", "swapped")
    if not seed:
        return _generic_pattern(name, failing, results, kind)
    if not stages:
        for family in (slips.top_slips, slips.layer_slips):
            matched = None
            for r in failing:
                g, _ = candidate_and_data_part(r)
                hits = {words for words, slip in family(r).items() if _matches(g, slip[name], rtol)}
                matched = hits if matched is None else matched & hits
            if matched:
                return Diagnosis(f"matches {sorted(matched)[0]}", "slip")

        def same_as(r, activation):
            return _matches(candidate_and_data_part(r)[0], slips.one_activation(r)[activation][name], rtol)

        for activation in PRIME:
            if all(set(r.case.activations) != {activation} and same_as(r, activation) for r in failing) and \
                    all(r.parameters[name].ok for r in results if set(r.case.activations) == {activation}):
                return Diagnosis(f"matches the {activation} network whatever the activation", "ignored activation",
                                 f"the activation argument looks ignored: the candidate computes the {activation} "
                                 "network for every activation")

    def ok(r):
        return getattr(r, kind)[name].ok

    two_layers = results[0].case.L == 2
    z, a = ("z2", "a2") if two_layers else ("z", "a")
    if _only_when(failing, results, ok, lambda r: r.case.kinks) == [True]:
        kinked = sorted({act for r in failing for act in r.case.activations if act in KINKED})
        return Diagnosis(f"wrong only where {z} has exact zeros ({' and '.join(kinked)} kinks): "
                         + "; ".join(KINK_WORDS[act].format(z=z) for act in kinked), "kinks")
    # The activations seen only where the parameter is wrong, when every failing case has one of them.
    bad = {act for r in failing for act in r.case.activations} - \
        {act for r in results if ok(r) for act in r.case.activations}
    if bad and all(bad & set(r.case.activations) for r in failing):
        bad = [act for act in PRIME if act in bad]
        where = f"activation {' and '.join(bad)}" if two_layers else f"networks with a {' or '.join(bad)} layer"
        return Diagnosis(f"wrong only with {where}: check its derivative φ'({z}) ("
                         + "; ".join(f"{act}: {PRIME[act].format(a=a, z=z)}" for act in bad) + ")", "activation")
    if _only_when(failing, results, ok, lambda r: r.case.large_logits) == [True]:
        return Diagnosis("wrong only with large logits: look at how the softmax is computed", "large logits")
    bad = _only_when(failing, results, ok, lambda r: r.case.lam > 0)
    if bad:
        return Diagnosis("wrong only when λ > 0: look at the regularisation term" if bad == [True]
                         else "wrong only when λ = 0", "lambda")

    worst = max(failing, key=lambda r: getattr(r, kind)[name].abs_error)
    c = getattr(worst, kind)[name]
    return Diagnosis(f"wrong in {len(failing)} of {len(results)} cases, with no pattern among those tried; largest "
                     f"error at entry {c.worst_index}: {c.candidate_value:.6g} against {c.reference_value:.6g} in "
                     f"{worst.case.describe()}", "unexplained")


def _reference(r, name, stages):
    return (r.arrays["stages"] if stages else r.arrays)["reference"][name]


def _offset_words(name, failing, candidate_of, reference_of, rtol, seed):
    """Words for a candidate off by the same constant in every entry and case, or (a user's 0-d parameter θ)
    by the same multiple of θ; None where neither explains it."""
    offsets, multiples = [], []
    for r in failing:
        reference = reference_of(r)
        d = candidate_of(r) - reference
        if d.size == 0 or np.ptp(d) > FIT_SLACK * rtol * (np.linalg.norm(reference) + np.linalg.norm(d)):
            return None
        offsets.append(float(np.mean(d)))
        theta = np.asarray(r.arrays["params"].get(name, np.nan), np.float64)
        multiples.append(offsets[-1] / float(theta) if theta.size == 1 and theta != 0 else np.nan)
    if all(_close(o, offsets[0]) for o in offsets):
        return Diagnosis(f"off by an additive constant {offsets[0]:.4g}: candidate − reference is {offsets[0]:.4g} in "
                         "every entry of every case (a constant term differentiated as if it were not one?)", "constant")
    if not seed and all(_close(m, multiples[0]) for m in multiples):
        return Diagnosis(_proportional_words(name, multiples, [r.case for r in failing]), "penalty")
    return None


def _generic_pattern(name, failing, results, kind):
    """A user's model: what sets the failing cases apart, or where the largest error is."""
    def ok(r):
        return getattr(r, kind)[name].ok

    for feature in results[0].case.features:
        if _only_when(failing, results, ok, lambda r: r.case.features[feature]) == [True]:
            return Diagnosis(f"wrong only in cases with {feature}", "pattern")
    worst = max(failing, key=lambda r: getattr(r, kind)[name].abs_error)
    c = getattr(worst, kind)[name]
    return Diagnosis(f"wrong in {len(failing)} of {len(results)} cases, with no pattern among those tried; largest "
                     f"error at entry {c.worst_index}: {c.candidate_value:.6g} against {c.reference_value:.6g} in "
                     f"{worst.case.describe()}", "unexplained")


@np.errstate(all="ignore")  # a hostile candidate's 1e300 or nan makes a fit fail, not a warning print
def diagnose(name, results, dtype, kind="parameters"):
    """A Diagnosis for one parameter (kind="parameters") or stage (kind="stages")."""
    def comparison(r):
        return getattr(r, kind)[name]

    failing = [r for r in results if not comparison(r).ok]
    if not failing:
        return Diagnosis("agrees", "agrees")
    no_result = [r for r in failing if comparison(r).problem == "no result"]
    unjudged = [r for r in failing if comparison(r).problem in NO_VERDICT]
    failing = [r for r in failing if comparison(r).problem != "no result" and comparison(r).problem not in NO_VERDICT]
    if unjudged:
        reference = _no_verdict(unjudged, comparison)
        if not failing:
            return reference
    if not failing:
        return Diagnosis("no result (see below)", "no result")

    first = {}
    for r in failing:
        first.setdefault(comparison(r).problem, r)
    if "missing" in first:
        diagnosis = Diagnosis(f"missing from the candidate's result (no key {name!r})", "missing")
    elif "not an array" in first:
        diagnosis = Diagnosis(comparison(first["not an array"]).words, "not an array")
    elif "shape" in first:
        diagnosis = _shape_words(name, first["shape"], comparison(first["shape"]))
    elif "dtype" in first:
        diagnosis = _dtype_words(name, [r for r in failing if comparison(r).problem == "dtype"], comparison, dtype)
    else:
        wrong = [r for r in failing if comparison(r).problem == "values"]
        not_finite = [r for r in failing if comparison(r).problem == "not finite"]
        parts = []
        if wrong:
            parts.append(_value_words(name, wrong, results, dtype, kind))
        if not_finite:
            parts.append(_not_finite_words(not_finite, comparison))
        diagnosis = Diagnosis("; also ".join(p.words for p in parts), parts[0].kind, parts[0].cause)
    if no_result:
        diagnosis = Diagnosis(f"{diagnosis.words}; no result in {len(no_result)} cases (see below)", diagnosis.kind,
                              diagnosis.cause)
    if unjudged:
        diagnosis = Diagnosis(f"{diagnosis.words}; also {reference.words}", diagnosis.kind, diagnosis.cause)
    return diagnosis


def _no_verdict(unjudged, comparison):
    """Words for the cases that have no verdict on a parameter, by the first reason among them."""
    r = unjudged[0]
    c = comparison(r)
    n = len(unjudged)
    if c.problem == "reference not finite":
        return Diagnosis(f"no verdict in {n} cases: the reference is not finite there (first {c.reference_value} at "
                         f"entry {c.worst_index} in {r.case.describe()})", "reference not finite",
                         "the reference (autodiff) returned values that are not finite: a fault of the reference or of "
                         "the machine it ran on, which leaves those cases without a verdict on the candidate")
    if c.problem == "no verdict":
        return Diagnosis(f"no verdict in {n} cases: the reference disagrees with its own finite differences there "
                         f"(first in {r.case.describe()})", "reference untrusted",
                         "the reference disagrees with finite differences of the same function in some cases, so it "
                         "cannot be trusted there: autodiff may compute something other than the NumPy code (an idiom "
                         "jax.numpy runs differently), or the function is too curved or too rough for finite "
                         "differences; those cases have no verdict on the candidate")
    return Diagnosis(f"no verdict in {n} cases: more entries differ than could be probed, and every one probed sits on "
                     f"a kink of the function (first in {r.case.describe()})", "kinks unjudged")


# Failures the chain rule cannot locate: they are about what came back, not about its values.
_NO_CHAIN_RULE = {"no result", "missing", "not an array", "dtype", "swapped", "ignored activation",
                  "reference not finite", "reference untrusted", "kinks unjudged", "no entry judged"}


def _listed(names):
    return " and ".join(names) if len(names) == 2 else ", ".join(names)


def chain_rule_hint(wrong, L):
    """Where to look, from which parameters are wrong: δ_{l+1} is right when W_l and b_l agree, and the
    recursion δ_l = (δ_{l+1} W_lᵀ) ⊙ φ'(z_l) walks down from the softmax."""
    if not wrong:
        return None
    if len(wrong) == 2 * L:
        return f"every parameter is wrong: start with δ{L + 1} = ∂J/∂z{L + 1} = (a{L + 1} − Δ)/N, which all of them share"
    m = max(int(name[1:]) for name in wrong)  # the highest layer with a wrong parameter
    above = [f"{kind}{l}" for l in range(m + 1, L + 1) for kind in "Wb"]
    a_m = "X" if m == 1 else f"a{m}"
    if wrong == {f"W{m}"}:
        return f"b{m} agrees, so δ{m + 1} is right: look at ∂J/∂W{m} = {a_m}ᵀ δ{m + 1} (and its penalty 2λW{m})"
    if wrong == {f"b{m}"}:
        return f"W{m} agrees, so δ{m + 1} is right: look at ∂J/∂b{m} = Σ_i δ{m + 1}[i, :]"
    if {f"W{m}", f"b{m}"} <= wrong and above:
        return (f"{_listed(above)} agree, so δ{m + 2} is right: look at δ{m + 1} = (δ{m + 2} W{m + 1}ᵀ) ⊙ "
                f"φ'(z{m + 1})")
    return None


def hint(diagnoses, wrong_in_data, L):
    """One line on where to look: the same cause named for every parameter, or the chain rule.

    diagnoses: name -> Diagnosis; wrong_in_data: the parameters wrong in cases with λ = 0;
    L: the seed model's depth, or None for a user's model.
    """
    wrong = {name: d for name, d in diagnoses.items() if d.kind not in ("agrees", "agrees at kinks")}
    causes = list(dict.fromkeys(d.cause for d in wrong.values() if d.cause))
    if causes:
        return "; ".join(causes)
    if L is None or any(d.kind in _NO_CHAIN_RULE for d in wrong.values()):
        return None  # no chain rule to walk in a user's model, nor in what came back malformed
    return chain_rule_hint(set(wrong_in_data), L)
