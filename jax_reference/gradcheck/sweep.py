"""The sweep: random cases, the candidate and the witnesses run on each, and what each parameter got."""

import os
import traceback
from dataclasses import dataclass

import numpy as np

import jax_reference as jr
import manual_grad as mg
from jax_reference import witness
from jax_reference.cases import LABEL_SETS, make_case
from jax_reference.tolerances import agrees, normwise_error, rounding_scales

MAX_DIM = 32


@dataclass(frozen=True)
class Case:
    """One random problem, rebuilt from (seed, index) alone."""

    index: int
    N: int
    D: int
    H: int
    K: int
    lam: float
    activation: str
    labels: str
    kinks: bool  # relu only: exact zeros in z2, where φ'(0) = 0 by convention
    seed: int

    def build(self, dtype):
        rng = np.random.default_rng([self.seed, self.index])
        params, X, y = make_case(rng, self.N, self.D, self.H, self.K, dtype=dtype, label_set=self.labels)
        if self.kinks:
            params["W1"][:, 0] = 0  # z2[:, 0] = b1[0] = 0 for every row
            params["b1"][0] = 0
        return params, X, y

    def describe(self):
        kinks = ", z2 with exact zeros" if self.kinks else ""
        return (f"case {self.index} (N={self.N}, D={self.D}, H={self.H}, K={self.K}, "
                f"lam={self.lam:.3g}, {self.activation}, labels {self.labels}{kinks})")


def draw_cases(n, seed, activations=mg.ACTIVATIONS, lams=None):
    """n cases of distinct shapes with D, H, K distinct, cycling through the activations.

    lams: the λ values to cycle through; None alternates 0 with λ drawn
    log-uniformly from [1e-3, 10], so each activation meets λ = 0 and λ > 0.
    """
    rng = np.random.default_rng(seed)
    seen, cases = set(), []
    while len(cases) < n:
        N = int(rng.integers(1, MAX_DIM + 1))
        D, H, K = (int(d) for d in rng.choice(np.arange(1, MAX_DIM + 1), 3, replace=False))
        if (N, D, H, K) in seen:
            continue
        seen.add((N, D, H, K))
        i = len(cases)
        activation = activations[i % len(activations)]
        turn = i // len(activations)
        if lams is None:
            lam = 0.0 if turn % 2 == 0 else float(10 ** rng.uniform(-3, 1))
        else:
            lam = float(lams[turn % len(lams)])
        kinks = activation == "relu" and (turn // 2) % 2 == 1
        cases.append(Case(i, N, D, H, K, lam, activation, LABEL_SETS[turn % len(LABEL_SETS)], kinks, seed))
    return cases


@dataclass
class Comparison:
    """A candidate's array against the reference's, for one parameter (or stage) in one case."""

    ok: bool
    problem: str | None  # None, "raised", "missing", "not an array", "shape", "not finite", "dtype" or "values"
    shape: tuple | None = None
    dtype: str | None = None
    abs_error: float | None = None
    rel_error: float | None = None
    worst_index: tuple | None = None
    candidate_value: float | None = None
    reference_value: float | None = None


def compare(candidate, reference, dtype, scale):
    if candidate is None:
        return Comparison(False, "missing")
    try:
        candidate = np.asarray(candidate)
    except Exception:
        return Comparison(False, "not an array")
    if candidate.dtype.kind not in "fiu":
        return Comparison(False, "not an array", candidate.shape, str(candidate.dtype))
    if candidate.shape != reference.shape:
        return Comparison(False, "shape", candidate.shape, str(candidate.dtype))
    if not np.all(np.isfinite(candidate)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(candidate))[0])
        return Comparison(False, "not finite", candidate.shape, str(candidate.dtype), worst_index=bad,
                          candidate_value=float(candidate[bad]), reference_value=float(reference[bad]))
    diff, rel = normwise_error(candidate, reference)
    gap = np.abs(candidate.astype(np.float64) - reference)
    worst = np.unravel_index(np.argmax(gap), gap.shape) if gap.size else ()
    values_ok = agrees(candidate, reference, dtype, scale)
    dtype_ok = candidate.dtype == dtype
    # A wrong dtype is named first: float32 arithmetic also puts the values off.
    problem = None if values_ok and dtype_ok else ("dtype" if not dtype_ok else "values")
    return Comparison(
        values_ok and dtype_ok, problem, candidate.shape, str(candidate.dtype), diff, rel,
        tuple(int(i) for i in worst), float(candidate[worst]), float(reference[worst]),
    )


@dataclass
class CaseResult:
    case: Case
    dtype: np.dtype
    ok: bool
    error: str | None  # the candidate's exception, when it raised
    parameters: dict  # name -> Comparison
    extra_keys: list
    modified_inputs: list
    witness_ok: bool | None  # None where finite differences were skipped (relu kinks)
    witness_error: float | None
    stages: dict  # "delta3"/"delta2" -> Comparison, when stages were checked
    stage_error: str | None  # the candidate's stages() exception, when it raised
    # What diagnosis needs: the candidate, the reference's data part (λ = 0) and λθ.
    arrays: dict

    def to_json(self):
        return {
            **vars(self.case),
            "ok": self.ok,
            "error": self.error,
            "extra_keys": self.extra_keys,
            "modified_inputs": self.modified_inputs,
            "witness": {"ok": self.witness_ok, "error": self.witness_error},
            "parameters": {k: vars(v) for k, v in self.parameters.items()},
            "stages": {k: vars(v) for k, v in self.stages.items()},
            "stage_error": self.stage_error,
        }


def _call(function, params, X, y, *args):
    """Runs a candidate on copies, so that it can neither corrupt the reference's inputs nor hide doing so."""
    copies = ({k: v.copy() for k, v in params.items()}, X.copy(), y.copy())
    try:
        result, error = function(*copies, *args), None
    except Exception as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = os.path.relpath(frame.filename) if not os.path.relpath(frame.filename).startswith("..") else frame.filename
        result, error = None, f"{type(exc).__name__}: {str(exc).strip()} (at {where}:{frame.lineno})"
    modified = [f"params[{k!r}]" for k in params if not np.array_equal(copies[0][k], params[k])]
    modified += [name for name, a, b in (("X", copies[1], X), ("y", copies[2], y)) if not np.array_equal(a, b)]
    return result, error, modified


def run_case(case, candidate, dtype, candidate_stages=None):
    dtype = np.dtype(dtype)
    params, X, y = case.build(dtype)
    reference = {k: np.asarray(v, np.float64) for k, v in jr.grad(params, X, y, case.lam, case.activation).items()}
    data_part = reference if case.lam == 0 else jr.grad(params, X, y, 0.0, case.activation)

    result, error, modified = _call(candidate, params, X, y, case.lam, case.activation)
    if error is None and not isinstance(result, dict):
        error = f"TypeError: returned {type(result).__name__}, expected a dict with keys {mg.PARAM_NAMES}"
        result = None
    result = result or {}
    scales = rounding_scales(params, X, case.activation)
    parameters = {name: compare(result.get(name), reference[name], dtype, scales[name]) for name in mg.PARAM_NAMES}
    if error is not None:
        parameters = {name: Comparison(False, "raised") for name in mg.PARAM_NAMES}
    extra_keys = sorted(str(k) for k in result if k not in mg.PARAM_NAMES)

    stages, stage_arrays, stage_error = {}, {}, None
    if candidate_stages is not None:
        ref_stages = jr.stages(params, X, y, case.activation)
        got, stage_error, _ = _call(candidate_stages, params, X, y, case.activation)
        got = got if isinstance(got, dict) and stage_error is None else {}
        ref_stages = {k: np.asarray(v, np.float64) for k, v in ref_stages.items()}
        stages = {k: compare(got.get(k), v, dtype, scales[k]) if stage_error is None else Comparison(False, "raised")
                  for k, v in ref_stages.items()}
        stage_arrays = {"candidate": _arrays(got, stages), "reference": ref_stages}

    witness_ok = witness_error = None
    if not case.kinks:
        # The witness checks the reference, in float64 whatever the sweep's dtype.
        ref64 = reference if dtype == np.float64 else jr.grad(
            *_as_float64(params, X), y, case.lam, case.activation)
        rng = np.random.default_rng([case.seed, case.index, 1])
        witness_ok, witness_error, _ = witness.check_gradient(ref64, params, X, y, case.lam, case.activation, rng)

    ok = error is None and not extra_keys and not modified and all(c.ok for c in parameters.values())
    arrays = {
        "candidate": _arrays(result, parameters),
        "reference": reference,
        "data_part": {k: np.asarray(v, np.float64) for k, v in data_part.items()},
        "params": params,
        "X": X,
        "y": y,
        "stages": stage_arrays,
    }
    return CaseResult(case, dtype, ok, error, parameters, extra_keys, modified, witness_ok, witness_error, stages, stage_error, arrays)


def _arrays(result, comparisons):
    """The candidate's arrays that could be compared at all, for diagnoses and plots."""
    return {k: np.asarray(result[k]) for k, c in comparisons.items()
            if c.problem not in ("raised", "missing", "not an array")}


def _as_float64(params, X):
    return {k: v.astype(np.float64) for k, v in params.items()}, X.astype(np.float64)
