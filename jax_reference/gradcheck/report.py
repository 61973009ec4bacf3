"""The report: one JSON-ready dict, from which the terminal table, JUnit XML and plots are drawn.

`verdict` is "pass" (and `ok` True) only when every case ran, every parameter
(and stage) agreed with the reference in every case, with at least one entry
judged, the result had no extra keys, and no input was changed in place. It is
"fail" when the candidate is wrong in any case the reference can be trusted in,
and "no verdict" when the rest agrees but some case could not be judged: the
reference not finite, or disagreeing with its own finite differences there.
"""

import re

import numpy as np

from jax_reference.tolerances import FD_RTOL, tolerance
from manual_grad.validate import width_names

from .diagnose import Diagnosis, diagnose, hint
from .plan import cases_to_cover, not_covered
from .sweep import NO_VERDICT, WITNESS_ALL, WITNESS_EVERY


class Report(dict):
    """The report: a dict, JSON-ready as it is (report["ok"], json.dump(report)), which a notebook shows as
    the page `gradcheck --html` writes, heatmaps included (html.py)."""

    def __init__(self, content, results=None, command=""):
        super().__init__(content)
        self._results, self._command = results, command

    def _repr_html_(self):
        from .html import figure_svg, render_page

        figure = figure_svg(self._results, self) if self._results else None
        return render_page(self, figure=figure, command=self._command, fragment=True)


def _summary(name, results, dtype, kind):
    comparisons = [getattr(r, kind)[name] for r in results]
    failed = [(r, c) for r, c in zip(results, comparisons) if not c.ok and c.problem not in NO_VERDICT]
    unjudged = [r for r, c in zip(results, comparisons) if c.problem in NO_VERDICT]
    measured = [c for c in comparisons if c.rel_error is not None]
    excused = [(r, c) for r, c in zip(results, comparisons) if c.excused and c.problem not in NO_VERDICT]
    # Entries judged over the cases with a verdict: a parameter whose every entry sat on a kink was never judged.
    judged = sum(c.judged for c in comparisons if c.judged is not None and c.problem not in NO_VERDICT)
    verdict = "wrong" if failed else "no verdict" if unjudged or not judged else "agrees"
    diagnosis = diagnose(name, results, dtype, kind)
    if verdict == "no verdict" and not unjudged:
        diagnosis = Diagnosis("no verdict: no entry was judged, every one sat on a kink of the function, where the "
                              "derivative is a convention", "no entry judged")
    elif verdict == "agrees" and excused:
        diagnosis = Diagnosis(f"agrees; differs only at {sum(c.excused for _, c in excused)} entries in "
                              f"{len(excused)} cases that sit on a kink of the function (its one-sided slopes differ "
                              "there, so the derivative is a convention), where the candidate lies between them",
                              "agrees at kinks")
    summary = {
        "ok": verdict == "agrees",
        "verdict": verdict,
        "cases": len(results),
        "cases_failed": len(failed),
        "cases_without_verdict": len(unjudged),
        "entries_at_kinks": sum(c.excused for _, c in excused),
        # Roundoff decides these where the parameter agrees: read them as "small", not as digits.
        "max_abs_error": max((c.abs_error for c in measured), default=None),
        "max_rel_error": max((c.rel_error for c in measured), default=None),
        "worst": None,  # the worst entry of the cases where the values are wrong
        "diagnosis": diagnosis.words,
        "kind": diagnosis.kind,
    }
    # Only errors in the values themselves: a dtype failure's error is the dtype's rounding.
    wrong_values = [(r, c) for r, c in failed if c.problem == "values"]
    if wrong_values:
        r, c = max(wrong_values, key=lambda rc: rc[1].abs_error)
        summary["worst"] = {"case": r.case.index, "index": list(c.worst_index),
                            "candidate": c.candidate_value, "reference": c.reference_value}
    return summary, diagnosis


def _plain(value):
    """Strict JSON: Python numbers, and the non-finite ones as the strings "inf", "-inf", "nan"."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else str(float(value))
    return value


_SHAPES = re.compile(r"shapes? ((?:\(\d+,\s*\d+\)\s*)+)")


def _in_layers(message, case):
    """A broadcast error's 2-D shapes in the case's symbols, so that a learner sees which layers met:
    '(28,2) (28,18)' of widths 9-15-10-2-18 is (N, H4) and (N, K), the widths of z4 and z5."""
    found = _SHAPES.search(message)
    if not found or not hasattr(case, "widths"):
        return message
    names = width_names(case.L)
    where = {w: (names[j], "X" if j == 0 else f"z{j + 1}") for j, w in enumerate(case.widths)}
    terms = []
    for rows, cols in re.findall(r"\((\d+),\s*(\d+)\)", found.group(1)):
        if int(cols) not in where:
            return message
        symbol, owner = where[int(cols)]
        terms.append(f"({'N' if int(rows) == case.N else rows}, {symbol}) of {owner}")
    return f"{message}; in this case's terms {' met '.join(terms)}"


def _failures(results):
    """The candidate's failed calls, each kind of failure once (messages that differ only in their numbers,
    such as shapes, are one kind), with the first message and the cases it happened in."""
    groups = {}
    for r in results:
        for what, failure in (("grad", r.failure), ("stages", r.stage_failure)):
            if failure:
                key = (what, failure["kind"], re.sub(r"\d+", "#", failure["message"]))
                groups.setdefault(key, (_in_layers(failure["message"], r.case), []))[1].append(r.case)
    return [{"function": what, "kind": kind, "message": message, "cases": [c.index for c in cases],
             "first_case": cases[0].describe()} for (what, kind, _), (message, cases) in groups.items()]


def _witness(results, mode):
    witnessed = [r for r in results if r.witness_ok is not None]
    witness = {
        "ok": all(r.witness_ok for r in witnessed),
        "tolerance": FD_RTOL,
        "cases_checked": len(witnessed),
        "cases_skipped": len(results) - len(witnessed),
        "max_error": float(np.max([r.witness_error for r in witnessed])) if witnessed else None,  # nan stays nan
    }
    if mode == "seed":
        return {**witness, "what": "central finite differences of manual_grad.loss in float64 against jax.grad of the "
                "reference", "kinks": "cases with exact zeros at a relu or leaky_relu kink are skipped: the loss has "
                "no derivative there", "cases_at_kinks": sum(r.case.kinks for r in results),
                "sampling": {"every case up to": WITNESS_ALL, "then one in": WITNESS_EVERY}}
    slopes = {}
    for name in results[0].parameters:
        for who in ("candidate", "reference"):
            found = [r.taylor[name][who] for r in results if r.taylor and name in r.taylor and who in r.taylor[name]]
            measured = [s for s in found if s is not None]
            slopes.setdefault(name, {})[who] = {"slope": float(np.median(measured)) if measured else None,
                                                "cases": len(found), "at rounding": len(found) - len(measured)}
    return {**witness, "what": "central finite differences of the user's NumPy function in float64, along a random "
            "direction and one sampled entry per parameter, against the reference",
            "kinks": "where the candidate differs from the reference, each such entry is probed for a kink (one-sided "
            "slopes that differ, at two steps): there the derivative is a convention, and a candidate value between "
            "the slopes is not held against it; every other entry is judged",
            "entries_at_kinks": sum(c.excused for r in results for c in r.parameters.values()
                                    if c.problem not in NO_VERDICT),
            "cases_at_kinks": sum(any(c.excused and c.problem not in NO_VERDICT for c in r.parameters.values())
                                  for r in results),
            "taylor": slopes}


def _shape_warnings(results):
    """A user's sampler: shapes that let a transposed gradient pass unseen."""
    shapes = {r.case.shapes for r in results}
    warnings = []
    if len(shapes) == 1 and len(results) > 1:
        warnings.append("every case has the same shapes: draw them at random in sample(rng), so that a transposed "
                        "or reshaped gradient cannot pass by chance")
    squares = [name for name, shape in results[0].case.shapes
               if len(shape) == 2 and all(dict(r.case.shapes)[name][0] == dict(r.case.shapes)[name][1] for r in results)]
    if squares:
        warnings.append(f"{', '.join(squares)} square in every case: a transpose of it cannot be told apart")
    return warnings


def build(results, *, output, candidate_name, config):
    """The whole report as a JSON-ready dict.

    config: the mode's settings: "mode" ("seed", "loss" or "layer"), "dtype", "seed"; the seed model's
    "checked_stages", "activations", "lams", "depth"; the other modes' "reference" and "sampler" names.
    """
    mode, dtype = config["mode"], config["dtype"]
    names = list(results[0].parameters)
    pairs = {name: _summary(name, results, dtype, "parameters") for name in names}
    parameters = {name: summary for name, (summary, _) in pairs.items()}
    stages = {}
    if config.get("checked_stages"):
        stages = {name: _summary(name, results, dtype, "stages")[0] for name in results[0].stages}
    witness = _witness(results, mode)
    failures = _failures(results)
    extra_keys = sorted({k for r in results for k in r.extra_keys})
    modified = sorted({m for r in results for m in r.modified_inputs})
    # The chain-rule hint is about the data term: judge it by the λ = 0 cases where there are some.
    data_cases = [r for r in results if getattr(r.case, "lam", 0) == 0] or results
    wrong_in_data = [name for name in names if any(not r.parameters[name].ok and r.parameters[name].problem
                                                   not in NO_VERDICT for r in data_cases)]
    complete = not failures
    judged = [*parameters.values(), *stages.values()]
    # Wrong: anything the candidate did in a case with a verdict. No verdict: the rest is right, but some case or
    # parameter could not be judged (the reference not to be trusted there, or no entry off a kink).
    wrong = (not complete or extra_keys or modified or any(p["verdict"] == "wrong" for p in judged))
    verdict = "fail" if wrong else "no verdict" if any(p["verdict"] == "no verdict" for p in judged) else "pass"
    tol = tolerance(dtype)
    settings = {"mode": mode, "cases": len(results), "seed": config["seed"],
                "dtype": " and ".join(np.dtype(d).name for d in config.get("dtypes", [dtype])),
                "tolerance": {"rtol": tol.rtol, "atol": tol.atol}}
    if mode == "seed":
        activations, lams, depth = config["activations"], config["lams"], config["depth"]
        settings.update({"depth": depth, "activations": list(activations),
                         "lams": "0 and random λ > 0" if lams is None else lams,
                         "cases_to_cover": cases_to_cover(activations, lams)})
        not_covered_ = not_covered([r.case for r in results], activations, lams, depth)
        warnings = []
    else:
        timing = results[-1].timing
        settings.update({"reference": config["reference"], "sampler": config["sampler"],
                         "reference compile s": timing["compile_s"], "reference run s": timing["run_s"],
                         "reference eager": timing["eager"]})
        not_covered_, warnings = [], _shape_warnings(results)
    return _plain({
        "ok": verdict == "pass",
        "verdict": verdict,
        "complete": complete,
        "candidate": candidate_name,
        "config": settings,
        "not_covered": not_covered_,
        "warnings": warnings,
        "parameters": parameters,
        "stages": stages,
        "failures": failures,
        "hint": hint({name: d for name, (_, d) in pairs.items()}, wrong_in_data,
                     config.get("depth") if mode == "seed" else None),
        "extra_keys": extra_keys,
        "modified_inputs": modified,
        "witness": witness,
        "output": {name: tally.to_json() for name, tally in output.items()},
        "cases": [r.to_json() for r in results],
    })


def load_failure(candidate_name, message):
    """The report of a candidate that could not be loaded: no case ran."""
    return {"ok": False, "verdict": "usage error", "complete": False, "candidate": candidate_name, "load_error": message,
            "parameters": {}, "stages": {}, "failures": [], "cases": []}
