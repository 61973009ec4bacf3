"""The library entry points: check a candidate gradient function, or assert that it agrees."""

import numpy as np

import manual_grad as mg

from . import report as reports
from .sweep import draw_cases, run_case

DEFAULT_CASES = 200


def check_gradients(candidate, *, name=None, **sweep_args):
    """Checks `candidate` against jax.grad of the reference loss over a sweep of random cases.

    Args:
      candidate: a function with the signature of `manual_grad.grad`:
        candidate(params, X, y, lam, activation) -> {"W1", "b1", "W2", "b2"}.
      cases: how many random cases (distinct shapes, D, H, K distinct).
      seed: the sweep's seed; the same seed gives the same cases.
      dtype: float64 or float32; the candidate gets arrays of this dtype.
      activations: the activations to cycle through.
      lams: the λ values to cycle through; None alternates 0 and random λ > 0.
      stages: optional `stages(params, X, y, activation) -> {"delta3", "delta2"}`
        to check the chain rule's intermediate quantities too.
      progress: optional wrapper around the case iterator, e.g. a progress bar.
      name: how the report names the candidate.

    Returns:
      The report, a JSON-ready dict; report["ok"] says whether all agree.
    """
    results = sweep(candidate, **sweep_args)
    return reports.build(results, candidate_name=name or _name(candidate), dtype=results[0].dtype,
                         seed=results[0].case.seed, checked_stages=sweep_args.get("stages") is not None)


def sweep(candidate, *, cases=DEFAULT_CASES, seed=0, dtype=np.float64, activations=mg.ACTIVATIONS,
          lams=None, stages=None, progress=None):
    """The sweep behind `check_gradients`: a `CaseResult` per case, arrays included (for plots)."""
    if isinstance(cases, bool) or not isinstance(cases, int) or cases < 1:
        raise ValueError(f"cases must be an integer >= 1; got {cases!r}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64; got {dtype}")
    unknown = [a for a in activations if a not in mg.ACTIVATIONS]
    if unknown or not activations:
        raise ValueError(f"activations must be a non-empty subset of {mg.ACTIVATIONS}; got {list(activations)}")
    if lams is not None:
        lams = [mg.validate.check_lam(lam) for lam in lams]
    drawn = draw_cases(cases, seed, tuple(activations), lams)
    return [run_case(case, candidate, dtype, stages) for case in (progress(drawn) if progress else drawn)]


def assert_gradients_agree(candidate, **kwargs):
    """For a project's own pytest suite: raises AssertionError with the report's table when `candidate` is wrong.

    Takes the keyword arguments of `check_gradients` (fewer cases keep a test
    fast: `cases=50` runs in well under a second once JAX has compiled).
    Returns the report when all agree.
    """
    report = check_gradients(candidate, **kwargs)
    if not report["ok"]:
        raise AssertionError("\n" + reports.text(report))
    return report


def _name(function):
    return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', repr(function))}"
