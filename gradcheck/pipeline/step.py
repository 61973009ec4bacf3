"""One case, the same step in every mode: the problem prepares it (and sets the candidate to work), the
candidate's arrays are compared with the reference's, the witness checks the reference, and where the
problem allows it, entries on a kink are excused one by one.
"""

from dataclasses import dataclass, field, replace

import numpy as np

from jax_reference.tolerances import tolerance

from .compare import arrays_of, compare, compare_all, without_verdict
from .witness import contradicted, taylor_slopes, verdict


@dataclass
class Prepared:
    """What a problem's `start(case)` returns, the candidate's calls already submitted."""

    case: object  # the problem's case: describe(), to_json(), dims, features, columns()
    dtype: np.dtype  # the case's dtype (the least precise of its arrays')
    reference: dict  # name -> the reference gradient, float64, in the order the report lists them
    dtypes: dict  # name (stages included) -> the dtype the candidate's array must have, and whose tolerance holds
    scales: dict  # name (stages included) -> s_P, the rounding scale of the tolerance (jax_reference.tolerances)
    arrays: dict  # what diagnoses and plots need besides the candidate and the reference (params, data part, …)
    stages: dict | None = None  # name -> the reference of the chain rule's stages, where they are checked
    timing: dict | None = None  # the reference's seconds compiling and running so far, where it says
    context: object = None  # what the problem's witness and kinks need of the case
    # What the problem's witness found wrong with the candidate beyond its values, [{"kind", "words"}]: a Hessian
    # that is not symmetric. Any fails the case.
    findings: list = field(default_factory=list)


@dataclass
class CaseResult:
    case: object
    dtype: np.dtype
    ok: bool
    failure: dict | None  # the candidate's call failed: {"kind", "message"} (isolation.process.FAILURES)
    parameters: dict  # name -> Comparison
    extra_keys: list
    modified_inputs: list
    types: dict  # name -> the type of value the candidate returned
    witness_ok: bool | None  # None where no direction was checked (a case not witnessed, or all at kinks)
    witness_error: float | None
    stages: dict  # "delta3"/"delta2" -> Comparison, when stages were checked
    stage_failure: dict | None
    # What diagnosis and plots need: the candidate's arrays, the reference, its data part (λ = 0), the inputs,
    # the entries excused on kinks.
    arrays: dict
    taylor: dict | None = None  # name -> {"candidate": slope, "reference": slope}, where the problem measures it
    timing: dict | None = None
    changed_own: list = field(default_factory=list)  # arguments that are the candidate's own, changed in place
    findings: list = field(default_factory=list)  # Prepared.findings

    def to_json(self):
        return {
            **self.case.to_json(),
            "description": self.case.describe(),
            "columns": self.case.columns(),
            "ok": self.ok,
            "failure": self.failure,
            "extra_keys": self.extra_keys,
            "modified_inputs": self.modified_inputs,
            "changed_own": self.changed_own,
            "witness": {"ok": self.witness_ok, "error": self.witness_error},
            "parameters": {k: {f: v for f, v in vars(c).items() if f != "words" or v} for k, c in self.parameters.items()},
            "stages": {k: vars(v) for k, v in self.stages.items()},
            "stage_failure": self.stage_failure,
            **({"taylor": self.taylor} if self.taylor is not None else {}),
            **({"findings": self.findings} if self.findings else {}),
        }


def _probes(parameters, candidate, prepared, checked, taylor):
    """For each parameter whose values differ, the entries to probe for a kink, largest difference first; none
    where the Taylor test already contradicts the candidate along a direction free of kinks."""
    probes = {}
    for name, c in parameters.items():
        if c.problem != "values" or (not checked[name]["kink"] and contradicted(taylor.get(name, {}))):
            continue
        values = np.asarray(candidate[name], np.float64).ravel()
        gap = np.abs(values - prepared.reference[name].ravel())
        order = np.argsort(-gap, kind="stable")
        order = order[gap[order] > 0]
        tol = tolerance(prepared.dtypes[name])
        probes[name] = {"order": order, "gaps": gap[order], "candidate": values[order], "bound": c.bound,
                        "rtol": tol.rtol, "atol": tol.atol, "scale": checked[name]["scale"]}
    return probes


def _at_kinks(parameters, candidate, prepared, probes, kinks):
    """The comparisons again, with the entries on a kink left out; and the entries left out, by name."""
    judged, excused = dict(parameters), {}
    for name in probes:
        left_out = kinks[name]["excused"]
        c = parameters[name]
        if len(left_out):
            c = compare(candidate[name], prepared.reference[name], prepared.dtypes[name], prepared.scales[name],
                        left_out)
            excused[name] = left_out
        if not c.ok and kinks[name]["exhausted"]:
            c = replace(c, problem="kinks unjudged")
        judged[name] = c
    return judged, excused


def run_case(problem, case):
    """Runs the candidate and the reference on `case`; a CaseResult."""
    prepared = problem.start(case)
    outcome = problem.candidate.receive()
    parameters = compare_all(outcome, prepared.reference, prepared.dtypes, prepared.scales)
    candidate = arrays_of(outcome, parameters)
    stages, stage_outcome = {}, None
    if prepared.stages is not None:
        stage_outcome = problem.candidate.receive()
        stages = compare_all(stage_outcome, prepared.stages, prepared.dtypes, prepared.scales)

    checked = problem.witness(prepared, candidate)
    witness_ok, witness_error = verdict(checked) if checked is not None else (None, None)
    taylor = taylor_slopes(checked) if checked is not None and problem.taylor else None
    excused = {}
    if witness_ok is False:  # the reference cannot be trusted in this case: no verdict on its values
        parameters, stages = without_verdict(parameters), without_verdict(stages)
    elif problem.excuses_kinks and checked is not None:
        probes = _probes(parameters, candidate, prepared, checked, taylor or {})
        if probes:
            parameters, excused = _at_kinks(parameters, candidate, prepared, probes, problem.kinks(prepared, probes))

    extra_keys = [] if outcome.failure else sorted(k for k in outcome.value if k not in prepared.reference)
    changed = sorted(set(outcome.modified) | set(stage_outcome.modified if stage_outcome else ()))
    # What the candidate was given to use up (a layer's dout) it may change; what its caller still owns, never.
    modified = [name for name in changed if name not in problem.own_inputs]
    ok = outcome.failure is None and not extra_keys and not modified and all(c.ok for c in parameters.values()) and \
        not prepared.findings
    arrays = {**prepared.arrays, "candidate": candidate, "reference": prepared.reference, "excused": excused,
              "stages": {"candidate": arrays_of(stage_outcome, stages), "reference": prepared.stages}
              if prepared.stages is not None else {}}
    return CaseResult(prepared.case, prepared.dtype, ok, outcome.failure, parameters, extra_keys, modified,
                      outcome.types, witness_ok, witness_error, stages,
                      stage_outcome.failure if stage_outcome else None, arrays, taylor, prepared.timing,
                      [name for name in changed if name in problem.own_inputs], prepared.findings)
