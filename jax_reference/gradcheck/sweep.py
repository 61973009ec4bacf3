"""One case of the sweep: the candidate and the reference run on it, and what each parameter got."""

import re
from dataclasses import dataclass, replace

import numpy as np

import jax_reference as jr
from jax_reference import witness
from jax_reference.tolerances import FD_RTOL, measure_gap, rounding_scales, tolerance

from . import generic
from .plan import Case

GRAD_ARGS = ("params", "X", "y", "lam", "activation")
# The witness checks the reference, whose code is the same in every case: in each of the first
# WITNESS_ALL cases (kinks aside), and in one in WITNESS_EVERY after them.
WITNESS_ALL = 200
WITNESS_EVERY = 10
STAGES_ARGS = ("params", "X", "y", "activation")


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
        # One sum tells whether any entry of either is inf or nan; argwhere only when one is. A reference
        # that is not finite (autodiff's fault, or its machine's) leaves the case without a verdict.
        if not np.isfinite(gap.sum()):
            for problem, array in (("reference not finite", reference), ("not finite", candidate)):
                if not np.isfinite(array).all():
                    bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
                    return Comparison(False, problem, candidate.shape, str(candidate.dtype), worst_index=bad,
                                      candidate_value=float(candidate[bad]), reference_value=float(reference[bad]))
        gap.flat[np.asarray(excused, np.int64)] = 0.0
        values_ok, diff, rel, bound = measure_gap(gap, reference, dtype, scale)
    # The first of the entries whose error ties with the largest: roundoff must not pick among ties, such as
    # the two columns of a K = 2 softmax gradient, which are exact negatives of each other.
    tie = gap.max(initial=0.0) * (1 - 10 * tolerance(dtype).rtol)
    worst = np.unravel_index(np.argmax(gap >= tie), gap.shape) if gap.size else ()
    dtype_ok = candidate.dtype == dtype
    # A wrong dtype is named first: float32 arithmetic also puts the values off.
    problem = ("at kinks" if len(excused) else None) if values_ok and dtype_ok else ("dtype" if not dtype_ok else "values")
    return Comparison(
        values_ok and dtype_ok, problem, candidate.shape, str(candidate.dtype), diff, rel,
        tuple(int(i) for i in worst), float(candidate[worst]), float(reference[worst]), bound=bound,
        excused=len(excused), judged=gap.size - len(excused),
    )


def _compare_all(outcome, references, dtype, scales):
    """name -> Comparison for every reference array, from an isolation.Outcome."""
    if outcome.failure is not None:
        return {name: Comparison(False, "no result") for name in references}
    return {name: compare(outcome.value.get(name), ref, dtype, scales[name]) for name, ref in references.items()}


@dataclass
class CaseResult:
    case: Case
    dtype: np.dtype
    ok: bool
    failure: dict | None  # the candidate's call failed: {"kind", "message"} (isolation.FAILURES)
    parameters: dict  # name -> Comparison
    extra_keys: list
    modified_inputs: list
    types: dict  # name -> the type of value the candidate returned
    witness_ok: bool | None  # None where finite differences were skipped (relu kinks)
    witness_error: float | None
    stages: dict  # "delta3"/"delta2" -> Comparison, when stages were checked
    stage_failure: dict | None
    # What diagnosis and plots need: the candidate's arrays, the reference, its data part (λ = 0), the inputs.
    arrays: dict
    taylor: dict = None  # loss and layer modes: name -> {"candidate": slope, "reference": slope}
    timing: dict = None  # loss and layer modes: the reference's seconds compiling and running, so far

    def to_json(self):
        return {
            **self.case.to_json(),
            "description": self.case.describe(),
            "ok": self.ok,
            "failure": self.failure,
            "extra_keys": self.extra_keys,
            "modified_inputs": self.modified_inputs,
            "witness": {"ok": self.witness_ok, "error": self.witness_error},
            "parameters": {k: {f: v for f, v in vars(c).items() if f != "words" or v} for k, c in self.parameters.items()},
            "stages": {k: vars(v) for k, v in self.stages.items()},
            "stage_failure": self.stage_failure,
            **({"taylor": self.taylor} if self.taylor is not None else {}),
        }


def _float64(arrays):
    return {k: np.asarray(v, np.float64) for k, v in arrays.items()}


def prepare(cases, dtype):
    """(case, (params, X, y), reference, float64 reference) for each case, the references computed a
    batch at a time (jax_reference.api.grad_many): one JAX call serves many cases of a bucket."""
    dtype = np.dtype(dtype)
    for start in range(0, len(cases), jr.api.BATCH):
        chunk = cases[start:start + jr.api.BATCH]
        built = [case.build(dtype) for case in chunk]
        references = jr.api.grad_many([(*b, c.lam, c.activation) for c, b in zip(chunk, built)])
        references64 = references if dtype == np.float64 else jr.api.grad_many(
            [(*_as_float64(p, X), y, c.lam, c.activation) for c, (p, X, y) in zip(chunk, built)])
        yield from zip(chunk, built, references, references64)


def run_case(case, runner, dtype, check_stages=False, prepared=None):
    """Runs the candidate (through `runner`, see isolation) and the reference on `case`.

    prepared: (case, (params, X, y), reference, float64 reference) from `prepare`, or None to compute
    them here. The candidate's calls are submitted first, so that an isolated candidate works while
    the rest is computed here.
    """
    dtype = np.dtype(dtype)
    if prepared is None:
        prepared = next(prepare([case], dtype))
    _, (params, X, y), reference, ref64 = prepared
    runner.submit("candidate", (params, X, y, case.lam, case.activation), GRAD_ARGS)
    if check_stages:
        runner.submit("stages", (params, X, y, case.activation), STAGES_ARGS)

    reference, ref64 = _float64(reference), _float64(ref64)
    params64 = _as_float64(params, X)[0]
    # The data term, λ = 0, for the diagnoses: J~'s gradient less the penalty's 2λW (the biases have none),
    # in float64 so that a large penalty leaves the data term's digits alone.
    data_part = {k: g - 2 * case.lam * params64[k] if k.startswith("W") else g for k, g in ref64.items()}
    ref_stages = _float64(jr.stages(params, X, y, case.activation)) if check_stages else {}
    witness_ok = witness_error = None
    if not case.kinks and (case.index < WITNESS_ALL or case.index % WITNESS_EVERY == 0):
        # The witness checks the reference, in float64 whatever the sweep's dtype: along one random
        # direction per parameter (single entries add little to that, and cost as much again).
        rng = np.random.default_rng([case.seed, case.index, 1])
        witness_ok, witness_error, _ = witness.check_gradient(ref64, params, X, y, case.lam, case.activation, rng,
                                                               entries=0)
    scales = rounding_scales(params, X, case.activation)

    outcome = runner.receive()
    parameters = _compare_all(outcome, reference, dtype, scales)
    extra_keys = [] if outcome.failure else sorted(k for k in outcome.value if k not in params)
    stages, stage_outcome = {}, None
    if check_stages:
        stage_outcome = runner.receive()
        stages = _compare_all(stage_outcome, ref_stages, dtype, scales)

    if witness_ok is False:
        parameters, stages = _without_verdict(parameters), _without_verdict(stages)
    modified = sorted(set(outcome.modified) | set(stage_outcome.modified if stage_outcome else ()))
    ok = outcome.failure is None and not extra_keys and not modified and all(c.ok for c in parameters.values())
    arrays = {
        "candidate": _arrays(outcome, parameters),
        "reference": reference,
        "data_part": data_part,
        "params": params,
        "X": X,
        "y": y,
        "stages": {"candidate": _arrays(stage_outcome, stages), "reference": ref_stages} if check_stages else {},
    }
    return CaseResult(case, dtype, ok, outcome.failure, parameters, extra_keys, modified, outcome.types,
                      witness_ok, witness_error, stages, stage_outcome.failure if stage_outcome else None, arrays)


def _arrays(outcome, comparisons):
    """The candidate's arrays that could be compared at all, for diagnoses and plots."""
    return {k: outcome.value[k] for k, c in comparisons.items()
            if c.problem not in ("no result", "missing", "not an array")}


def _as_float64(params, X):
    return {k: v.astype(np.float64) for k, v in params.items()}, X.astype(np.float64)


class SetupError(ValueError):
    """The sampler, the loss or the forward failed, or returned what the mode cannot use: not the candidate's
    fault, and no verdict can be reached. The message says which, where, and in which case."""


def _taylor_slope(remainders, F0, scale):
    """The slope of log remainder against log h, over the steps where the remainder is above rounding;
    None where it never is (the function is linear there and the gradient exact, or nearly)."""
    h = np.array(generic.TAYLOR_STEPS)
    r = np.array(remainders)
    keep = r > generic.ROUNDOFF * max(abs(F0), scale, 1e-300)
    if keep.sum() < 3:
        return None
    return float(np.polyfit(np.log(h[keep]), np.log(r[keep]), 1)[0])


def _receive(runner, what, case):
    outcome = runner.receive()
    if outcome.failure:
        message = re.sub(r"^raised (NotTraceable|UserCodeError): ", "", outcome.failure["message"])
        raise SetupError(f"{what} {message} in {case}")
    return generic.decode(outcome)


# The Taylor test contradicts a gradient along v when its remainder falls as h (slope below LINEAR) where the
# reference's falls as h² (slope above QUADRATIC) or is at rounding: that gradient cannot be excused at a kink.
LINEAR, QUADRATIC = 1.3, 1.7


def _contradicted(slopes):
    candidate, reference = slopes.get("candidate"), slopes.get("reference")
    return candidate is not None and candidate < LINEAR and (reference is None or reference > QUADRATIC)


def _probes(parameters, candidate, reference, dtypes, witness, taylor):
    """For each parameter whose values differ, the entries to probe for a kink, largest difference first; none
    where the Taylor test already contradicts the candidate along a direction free of kinks."""
    probes = {}
    for name, c in parameters.items():
        if c.problem != "values" or (not witness[name]["kink"] and _contradicted(taylor.get(name, {}))):
            continue
        gap = np.abs(np.asarray(candidate[name], np.float64) - reference[name]).ravel()
        order = np.argsort(-gap, kind="stable")
        order = order[gap[order] > 0]
        tol = tolerance(dtypes[name])
        probes[name] = {"order": order, "gaps": gap[order], "bound": c.bound, "rtol": tol.rtol, "atol": tol.atol,
                        "candidate": np.asarray(candidate[name], np.float64).ravel()[order],
                        "scale": witness[name]["scale"]}
    return probes


def _judged_at_kinks(parameters, candidate, reference, dtypes, probes, kinks):
    """The comparisons again, with the entries on a kink (where the derivative is a convention) left out."""
    judged = dict(parameters)
    for name in probes:
        excused = kinks[name]["excused"]
        c = compare(candidate[name], reference[name], dtypes[name], 0.0, excused) if len(excused) else parameters[name]
        if not c.ok and kinks[name]["exhausted"]:
            c = replace(c, problem="kinks unjudged")
        judged[name] = c
    return judged


def _without_verdict(parameters):
    """A case whose reference disagrees with its own finite differences: no verdict on the values (structural
    faults, such as a wrong shape or dtype, stand: they do not depend on the reference)."""
    return {n: replace(c, ok=False, problem="no verdict") if c.problem in (None, "at kinks", "values") else c
            for n, c in parameters.items()}


def _case_dtypes(floats, dtype):
    """The dtype each differentiable array is checked in: `dtype` where the sweep casts to one, else its own."""
    return {name: np.dtype(dtype) if dtype is not None else x.dtype for name, x in floats.items()}


def run_sampled_case(index, seed, mode, runners, dtype, names):
    """One case of the loss or layer mode (generic.py): sample, reference, candidate, witnesses.

    dtype: None to check each array in the dtype the sampler drew, or float32 / float64 to cast them to it.
    """
    reference_runner, candidate_runner = runners["reference"], runners["candidate"]
    reference_runner.submit("sample", (seed,), ("seed",))
    try:
        value, floats, N = generic.checked_sample(mode, _receive(reference_runner, "the sampler", f"case {index}"),
                                                  dtype, names)
    except generic.SampleError as exc:
        raise SetupError(f"{exc} in case {index}") from None
    case = generic.SampledCase(index, tuple(seed), generic.shapes_of(mode, value, names), N,
                               generic.structure(mode, value, names))
    if mode == "loss":
        params, data = value
        candidate_runner.submit("candidate", (params, *data), ("params", *(f"data[{i}]" for i in range(len(data)))))
        reference_runner.submit("reference", (params, data), ("params", "data"))
        result = _receive(reference_runner, "the loss", case.describe())
        rest = data
    else:
        reference_runner.submit("reference", (value, (*seed, 1)), ("inputs", "seed"))
        result = _receive(reference_runner, "the forward", case.describe())
        candidate_runner.submit("candidate", (result["dout"], *value), ("dout", *(
            generic.input_name(names, i) for i in range(len(value)))))
        rest = (value, names, result["dout"])
    grads = _float64(result["grads"])
    reference = {name: grads[name] for name in floats if name in grads}  # the sampler's order, not JAX's sorted one
    dtypes = _case_dtypes(floats, dtype)
    outcome = candidate_runner.receive()
    parameters = {name: compare(outcome.value.get(name), ref, dtypes[name], 0.0) if outcome.failure is None
                  else Comparison(False, "no result") for name, ref in reference.items()}
    candidate = _arrays(outcome, parameters)
    comparable = {k: v for k, v in candidate.items() if np.shape(v) == reference[k].shape} or None
    reference_runner.submit("witness", (floats, rest, reference, comparable, (*seed, 2)),
                            ("point", "rest", "reference", "candidate", "seed"))
    witness = _receive(reference_runner, "the finite differences of the user's function", case.describe())

    errors = [abs(c["fd"] - c["along"]) / (w["scale"] or 1.0) for w in witness.values() for c in w["checks"]]
    worst = float(np.max(errors, initial=0.0))  # nan, where the reference is nan: never a pass
    witness_ok = bool(worst <= FD_RTOL) if errors else None
    taylor = {n: {who: _taylor_slope(r, w["F0"], w["scale"]) for who, r in w["remainders"].items()}
              for n, w in witness.items() if not w["kink"]}
    probes = {}
    if witness_ok is False:
        parameters = _without_verdict(parameters)
    else:
        probes = _probes(parameters, candidate, reference, dtypes, witness, taylor)
        if probes:
            reference_runner.submit("kinks", (floats, rest, probes), ("point", "rest", "probes"))
            kinks = _receive(reference_runner, "the finite differences of the user's function", case.describe())
            parameters = _judged_at_kinks(parameters, candidate, reference, dtypes, probes, kinks)
    extra_keys = [] if outcome.failure else sorted(k for k in outcome.value if k not in reference)
    ok = outcome.failure is None and not extra_keys and not outcome.modified and all(c.ok for c in parameters.values())
    arrays = {"candidate": candidate, "reference": reference, "data_part": reference,
              "params": {k: np.asarray(v) for k, v in floats.items()}, "stages": {},
              "excused": {n: kinks[n]["excused"] for n in probes if parameters[n].excused} if probes else {}}
    return CaseResult(case, min(dtypes.values(), key=lambda d: d.itemsize), ok, outcome.failure, parameters,
                      extra_keys, sorted(outcome.modified), outcome.types, witness_ok, worst if errors else None, {},
                      None, arrays, taylor, result["timing"])
