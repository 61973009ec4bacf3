"""What kind of mistake a wrong parameter looks like, in words that hold for any model.

Each parameter's failing cases are tested against explanations, most specific
first: a structural fault (missing, shape, another parameter's values, dtype);
the candidate is c · (data term) + p · (penalty direction), with c and p
following a law in the sizes the cases know (a factor N, a sign, a constant);
an additive constant; a transpose seen in the values; then what the model
knows (`Model`: the generic one knows the cases' features; the seed model,
diagnose/seed.py, its slips, activations, kinks, logits and λ). What none
explains is described by where it happens and how large it is. Calls that gave
no result at all (the candidate raised, exited, crashed, timed out or returned
a non-dict) are reported once for the whole report, not here.
"""

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from jax_reference.tolerances import agrees, tolerance

from ..pipeline.compare import NO_VERDICT

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


def close(x, target, rtol=1e-3):
    return abs(x - target) <= rtol * max(1.0, abs(target))


def fraction(c):
    """'1/2' for 0.5, '' for 1 (λW, not 1λW), '−' for −1, else 4 digits (a small ratio is a slip, 1e300 is not)."""
    f = Fraction(c).limit_denominator(8)
    if abs(f.numerator) > 100 or not close(c, float(f)):
        return f"{c:.4g}"
    return {"1": "", "-1": "−"}.get(str(f), str(f))


def fitted_law(values, cases):
    """(α, law) with value ≈ α · law(dims) in every case, the simplest law that fits; None where none does.

    A law other than the constant must take two values among the cases, or it could not be told apart.
    """
    for name, rule in LAWS:
        try:
            sizes = [rule(c.dims) for c in cases]
        except KeyError:  # the cases do not know that dimension
            continue
        if name and len(set(sizes)) < 2:
            continue
        alphas = [v / s for v, s in zip(values, sizes)]
        if all(close(a, alphas[0]) for a in alphas):
            return alphas[0], name
    return None


def scaled(alpha, rule, symbol):
    """α · law · symbol written as a person would: 2λW1/N, NλW1, λW1."""
    numerator, _, denominator = rule.partition("/")
    numerator = "" if numerator == "1" else numerator
    return f"{fraction(alpha)}{numerator}{symbol}" + (f"/{denominator}" if denominator else "")


def factor_words(cs, cases):
    """Words for a data term scaled by c in each case, or None where c = 1."""
    found = fitted_law(cs, cases)
    if found is None:
        known = [d for d in ("N", "K") if all(d in c.dims for c in cases)]
        return (f"off by a factor that varies from case to case ({min(cs):.3g} to {max(cs):.3g})"
                + (f" and follows no law in {' and '.join(known)}" if known else ""))
    alpha, rule = found
    if close(alpha, 1) and rule == "":
        return None
    if close(alpha, -1) and rule == "":
        return "sign flipped: the candidate is −1 × the reference"
    if close(alpha, 1) and rule == "N":
        return "N times too large: a sum over the examples where J takes the mean (the 1/N is missing)"
    if close(alpha, 1) and rule == "1/N":
        return "N times too small: divided by N once too often"
    if close(alpha, 1) and rule == "N/K":
        return "N/K times the reference: divided by K, the number of classes, where J's mean divides by N"
    if rule == "":
        return f"off by a constant factor {fraction(alpha) or 1}"
    return f"off by a factor {scaled(alpha, rule, '') or rule}"


def proportional_words(name, ps, cases):
    """A user's model: words for an error p θ proportional to the parameter θ itself."""
    found = fitted_law(ps, cases)
    if found is None:
        return (f"off by a multiple of {name} itself whose coefficient varies from case to case ({min(ps):.3g} to "
                f"{max(ps):.3g}), as a penalty term's gradient would be: check its coefficient")
    alpha, rule = found
    return (f"off by {scaled(alpha, rule, name) or name}, a multiple of {name} itself, as a penalty term's gradient "
            "would be: check its coefficient (the gradient of λ‖θ‖² is 2λθ)")


def fit(g, data_part, penalty_direction, rtol):
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


def matches(g, target, rtol):
    return g.shape == target.shape and np.linalg.norm(g - target) <= FIT_SLACK * rtol * np.linalg.norm(target)


class Model:
    """What a model knows of its cases beyond the arrays. This one, a user's model's (loss and layer modes),
    knows only the cases' sizes and features; the seed model's (diagnose/seed.py) knows its network."""

    # A user's loss mixes its own penalty into the reference: with a wrong factor on the whole, a multiple of θ
    # is that factor's trace on the penalty, not a mistake of its own.
    mixes_penalty = True

    def penalty_direction(self, r, name):
        """The direction a penalty's gradient takes in this case, or None: in a user's model, anything
        proportional to θ, where θ has more than one entry (one entry cannot tell it from the data term)."""
        theta = np.asarray(r.arrays["params"][name], np.float64)
        return theta if theta.size > 1 else None

    def penalty_words(self, name, ps, cases):
        """Words for a penalty gradient p · (penalty direction) in each case, or None where p is right."""
        return None if all(close(p, 0.0, 1e-2) for p in ps) else proportional_words(name, ps, cases)

    def multiple_words(self, name, multiples, cases):
        """Words for a 0-d parameter θ off by the same multiple of θ in every case, or None."""
        return proportional_words(name, multiples, cases)

    def expected_shape(self, name, r):
        """(the expected shape in words, its sizes in this case)."""
        sizes = r.arrays["reference"][name].shape
        return str(sizes), sizes

    def swap_note(self, name, other, case):
        return ""

    def not_finite(self, failing, where):
        """A Diagnosis for a candidate not finite where the reference is, where the model knows why; else None."""
        return None

    def value_words(self, name, failing, results, dtype, kind, candidate_of):
        """What sets the failing cases apart, or None."""
        def ok(r):
            return getattr(r, kind)[name].ok

        for feature in results[0].case.features:
            if only_when(failing, results, ok, lambda r: r.case.features[feature]) == [True]:
                return Diagnosis(f"wrong only in cases with {feature}", "pattern")
        return None

    def data_cases(self, results):
        """The cases the hint judges a parameter by."""
        return results

    def locate(self, message, case):
        """A failed call's message, with what the model can add on where it happened."""
        return message

    def hint(self, diagnoses, wrong_in_data):
        """Where to look, beyond the causes the diagnoses share: nothing, in a user's model."""
        return None


def shape_words(model, name, r, comparison):
    case, got = r.case, tuple(comparison.shape)
    expected, sizes = model.expected_shape(name, r)
    where = f"returned shape {got}, expected {expected}" + (f" = {sizes}" if expected != str(sizes) else "")
    candidate = r.arrays["candidate"].get(name)
    for other, reference in r.arrays["reference"].items():
        if other != name and candidate is not None and matches(candidate.astype(np.float64), reference, 1e-6):
            return Diagnosis(f"has {other}'s shape and values: {name} and {other} look swapped"
                             + model.swap_note(name, other, case) + f" ({where})", "swapped")
    N = case.dims.get("N")
    if len(got) == 2 and got == tuple(sizes)[::-1] and len(sizes) == 2:
        return Diagnosis(f"transposed: {where}", "transposed")
    if N and got == (N, *sizes):
        return Diagnosis(f"the sum over the N = {N} examples is missing: {where}", "shape")
    if tuple(s for s in got if s != 1) == tuple(s for s in sizes if s != 1) and len(got) > len(sizes):
        return Diagnosis(f"extra dimensions of size 1: {where} (a sum with keepdims=True, or a column for a "
                         "vector)", "shape")
    return Diagnosis(f"wrong shape: {where}", "shape")


def dtype_words(name, failing, comparison, dtype):
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


def not_finite_words(model, failing, comparison):
    r = failing[0]
    c = comparison(r)
    where = f"{c.candidate_value} at entry {c.worst_index} (reference {c.reference_value:.6g}) in {r.case.describe()}"
    return model.not_finite(failing, where) or Diagnosis(f"not finite where the reference is: {where}", "not finite")


def only_when(failing, results, ok, key):
    """The values of `key` that every failing case has and every passing case lacks, or None."""
    bad = {key(r) for r in failing}
    if bad != {key(r) for r in results} and all(ok(r) for r in results if key(r) not in bad):
        return sorted(bad, key=str)
    return None


def _reference(r, name, stages):
    return (r.arrays["stages"] if stages else r.arrays)["reference"][name]


def _offset_words(model, name, failing, candidate_of, reference_of, rtol, stages):
    """Words for a candidate off by the same constant in every entry and case, or (a 0-d parameter θ) by the
    same multiple of θ, where the model allows it; None where neither explains it."""
    offsets, multiples = [], []
    for r in failing:
        reference = reference_of(r)
        d = candidate_of(r) - reference
        if d.size == 0 or np.ptp(d) > FIT_SLACK * rtol * (np.linalg.norm(reference) + np.linalg.norm(d)):
            return None
        offsets.append(float(np.mean(d)))
        theta = np.asarray(r.arrays["params"].get(name, np.nan), np.float64)
        multiples.append(offsets[-1] / float(theta) if theta.size == 1 and theta != 0 else np.nan)
    if all(close(o, offsets[0]) for o in offsets):
        return Diagnosis(f"off by an additive constant {offsets[0]:.4g}: candidate − reference is {offsets[0]:.4g} in "
                         "every entry of every case (a constant term differentiated as if it were not one?)", "constant")
    if not stages and all(close(m, multiples[0]) for m in multiples):
        words = model.multiple_words(name, multiples, [r.case for r in failing])
        return Diagnosis(words, "penalty") if words else None
    return None


def _value_words(model, name, failing, results, dtype, kind):
    """A Diagnosis for cases whose values (not their structure) are wrong."""
    rtol = tolerance(dtype).rtol
    stages = kind == "stages"

    def candidate_and_data_part(r):
        a = r.arrays["stages"] if stages else r.arrays
        data_part = a["reference"][name] if stages else a["data_part"][name]
        return np.asarray(a["candidate"][name], np.float64), data_part

    fits = [fit(*candidate_and_data_part(r), None if stages else model.penalty_direction(r, name), rtol)
            for r in failing]
    offset = _offset_words(model, name, failing, lambda r: candidate_and_data_part(r)[0],
                           lambda r: _reference(r, name, stages), rtol, stages)
    if all(f is not None for f in fits):
        data = [(f[0], r.case) for f, r in zip(fits, failing) if f[0] is not None]
        penalty = [(f[1], r.case) for f, r in zip(fits, failing) if f[1] is not None]
        if offset and data and fitted_law(*zip(*data)) is None:
            return offset  # a lawless factor, where a constant offset explains every case
        words = [factor_words(*zip(*data)) if data else None,
                 model.penalty_words(name, *zip(*penalty)) if penalty else None]
        if model.mixes_penalty and words[0]:
            words[1] = None
        if any(words):
            return Diagnosis("; ".join(w for w in words if w), "penalty" if not words[0] else "factor")

    if offset:
        return offset
    transposed = [matches(candidate_and_data_part(r)[0], _reference(r, name, stages).T, rtol) for r in failing]
    if all(transposed) and all(np.ndim(_reference(r, name, stages)) == 2 for r in failing):
        return Diagnosis("transposed: the values are the reference's transpose (square here, so the shape could "
                         "not tell)", "transposed")
    if not stages:
        for r in failing:
            g, _ = candidate_and_data_part(r)
            for other, reference in r.arrays["reference"].items():
                if other != name and matches(g, reference, rtol):
                    return Diagnosis(f"has {other}'s values: {name} and {other} look swapped", "swapped")
    special = model.value_words(name, failing, results, dtype, kind, lambda r: candidate_and_data_part(r)[0])
    if special:
        return special
    worst = max(failing, key=lambda r: getattr(r, kind)[name].abs_error)
    c = getattr(worst, kind)[name]
    return Diagnosis(f"wrong in {len(failing)} of {len(results)} cases, with no pattern among those tried; largest "
                     f"error at entry {c.worst_index}: {c.candidate_value:.6g} against {c.reference_value:.6g} in "
                     f"{worst.case.describe()}", "unexplained")


@np.errstate(all="ignore")  # a hostile candidate's 1e300 or nan makes a fit fail, not a warning print
def diagnose(name, results, dtype, kind="parameters", model=Model()):
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
        diagnosis = shape_words(model, name, first["shape"], comparison(first["shape"]))
    elif "dtype" in first:
        diagnosis = dtype_words(name, [r for r in failing if comparison(r).problem == "dtype"], comparison, dtype)
    else:
        wrong = [r for r in failing if comparison(r).problem == "values"]
        not_finite = [r for r in failing if comparison(r).problem == "not finite"]
        parts = []
        if wrong:
            parts.append(_value_words(model, name, wrong, results, dtype, kind))
        if not_finite:
            parts.append(not_finite_words(model, not_finite, comparison))
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


def hint(diagnoses, wrong_in_data, model=Model()):
    """One line on where to look: the same cause named for every parameter, or what the model says (the seed
    model: the chain rule).

    diagnoses: name -> Diagnosis; wrong_in_data: the parameters wrong in cases with λ = 0 (all, elsewhere).
    """
    wrong = {name: d for name, d in diagnoses.items() if d.kind not in ("agrees", "agrees at kinks")}
    causes = list(dict.fromkeys(d.cause for d in wrong.values() if d.cause))
    if causes:
        return "; ".join(causes)
    return model.hint(wrong, wrong_in_data)
