"""One comparison: a candidate's array against the reference's, the same for every mode.

A parameter agrees when ‖candidate − reference‖ <= atol + rtol (‖reference‖ + s_P), with the tolerances of
jax_reference.tolerances; entries on a kink of the function, where the derivative is a convention, may be
left out (`excused`). Some problems leave a case without a verdict on a parameter: NO_VERDICT.
"""

from dataclasses import dataclass, replace

import numpy as np

from jax_reference.tolerances import measure_gap, tolerance


@dataclass
class Comparison:
    """A candidate's array against the reference's, for one parameter (or stage) in one case."""

    ok: bool
    # None, "at kinks" (agrees once the entries on a kink are left out), "no result", "missing", "not an array",
    # "shape", "not finite", "dtype", "values", or where the case has no verdict on it: "reference not finite",
    # "no verdict" (the reference disagrees with its finite differences), "kinks unjudged" (more entries on
    # kinks than were probed)
    problem: str | None
    shape: tuple | None = None
    dtype: str | None = None
    abs_error: float | None = None
    rel_error: float | None = None
    worst_index: tuple | None = None
    candidate_value: float | None = None
    reference_value: float | None = None
    words: str | None = None  # what came, where it is not an array
    bound: float | None = None  # the tolerance ‖candidate − reference‖ was held to
    excused: int = 0  # entries left out: on a kink, where the derivative is a convention (loss and layer modes)
    judged: int | None = None  # entries judged: all of them but the excused


# Problems that leave a case without a verdict on the parameter: never the candidate's fault, never a pass.
NO_VERDICT = ("reference not finite", "no verdict", "kinks unjudged")


def compare(candidate, reference, dtype, scale, excused=()):
    """A Comparison of the candidate's array with the reference's; `excused` flat indices are left out."""
    if candidate is None:
        return Comparison(False, "missing")
    if isinstance(candidate, str):
        return Comparison(False, "not an array", words=candidate)
    if candidate.shape != reference.shape:
        return Comparison(False, "shape", candidate.shape, str(candidate.dtype))
    with np.errstate(over="ignore", invalid="ignore"):  # a candidate near 1e308 is a finding, not a warning
        gap = np.asarray(np.abs(candidate.astype(np.float64) - reference))
        # One max tells whether any entry of either is inf or nan (it propagates nan); argwhere only when one
        # is. A reference that is not finite (autodiff's fault, or its machine's) leaves the case without a
        # verdict.
        top = gap.max(initial=0.0)
        if not np.isfinite(top):
            for problem, array in (("reference not finite", reference), ("not finite", candidate)):
                if not np.isfinite(array).all():
                    bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
                    return Comparison(False, problem, candidate.shape, str(candidate.dtype), worst_index=bad,
                                      candidate_value=float(candidate[bad]), reference_value=float(reference[bad]))
        if len(excused):
            gap.flat[np.asarray(excused, np.int64)] = 0.0
            top = gap.max(initial=0.0)
        values_ok, diff, rel, bound = measure_gap(gap, reference, dtype, scale)
    # The first of the entries whose error ties with the largest: roundoff must not pick among ties, such as
    # the two columns of a K = 2 softmax gradient, which are exact negatives of each other.
    tie = top * (1 - 10 * tolerance(dtype).rtol)
    worst = np.unravel_index(np.argmax(gap >= tie), gap.shape) if gap.size else ()
    dtype_ok = candidate.dtype == dtype
    # A wrong dtype is named first: float32 arithmetic also puts the values off.
    problem = ("at kinks" if len(excused) else None) if values_ok and dtype_ok else ("dtype" if not dtype_ok else "values")
    return Comparison(
        values_ok and dtype_ok, problem, candidate.shape, str(candidate.dtype), diff, rel,
        tuple(int(i) for i in worst), float(candidate[worst]), float(reference[worst]), bound=bound,
        excused=len(excused), judged=gap.size - len(excused),
    )


def compare_all(outcome, references, dtypes, scales):
    """name -> Comparison for every reference array, from an isolation Outcome; dtypes and scales by name."""
    if outcome.failure is not None:
        return {name: Comparison(False, "no result") for name in references}
    return {name: compare(outcome.value.get(name), ref, dtypes[name], scales[name]) for name, ref in references.items()}


def arrays_of(outcome, comparisons):
    """The candidate's arrays that could be compared at all, for diagnoses, plots and the witness."""
    return {k: outcome.value[k] for k, c in comparisons.items()
            if c.problem not in ("no result", "missing", "not an array")}


def without_verdict(comparisons):
    """A case whose reference disagrees with its own finite differences: no verdict on the values (structural
    faults, such as a wrong shape or dtype, stand: they do not depend on the reference)."""
    return {n: replace(c, ok=False, problem="no verdict") if c.problem in (None, "at kinks", "values") else c
            for n, c in comparisons.items()}


