"""The report: one JSON-ready dict, from which the terminal table (text.py), JUnit XML (junit.py), the page
(html.py) and the plots (plot.py) are drawn.

`verdict` is "pass" (and `ok` True) only when every case ran, every parameter
(and stage) agreed with the reference in every case, with at least one entry
judged, the result had no extra keys, and no input was changed in place. It is
"fail" when the candidate is wrong in any case the reference can be trusted in,
and "no verdict" when the rest agrees but some case could not be judged: the
reference not finite, or disagreeing with its own finite differences there.
What differs between modes (the heading, the settings, the witness's words,
what a short sweep left uncovered) comes from the problem.
"""

import math
import re

import numpy as np

from jax_reference.tolerances import FD_RTOL, tolerance

from ..diagnose import Diagnosis, diagnose, hint
from ..pipeline.compare import NO_VERDICT


class Report(dict):
    """The report: a dict, JSON-ready as it is (report["ok"], json.dump(report)), which a notebook shows as
    the page `gradcheck --html` writes, heatmaps included (html.py)."""

    def __init__(self, content, results=None, command=""):
        super().__init__(content)
        self.results, self._command = results, command  # the CaseResults, for the heatmaps and the plot

    def _repr_html_(self):
        from .html import figure_svg, render_page

        figure = figure_svg(self.results, self) if self.results else None
        return render_page(self, figure=figure, command=self._command, fragment=True)


def _summary(name, results, dtype, kind, model):
    comparisons = [getattr(r, kind)[name] for r in results]
    failed = [(r, c) for r, c in zip(results, comparisons) if not c.ok and c.problem not in NO_VERDICT]
    unjudged = [r for r, c in zip(results, comparisons) if c.problem in NO_VERDICT]
    measured = [c for c in comparisons if c.rel_error is not None]
    excused = [(r, c) for r, c in zip(results, comparisons) if c.excused and c.problem not in NO_VERDICT]
    # Entries judged over the cases with a verdict: a parameter whose every entry sat on a kink was never judged.
    judged = sum(c.judged for c in comparisons if c.judged is not None and c.problem not in NO_VERDICT)
    verdict = "wrong" if failed else "no verdict" if unjudged or not judged else "agrees"
    # A reference that is exactly 0 in every case checks nothing: any candidate returning zeros would agree.
    vacuous = kind == "parameters" and all(not np.any(r.arrays.get("reference", {}).get(name, 1)) for r in results)
    verdict = "no verdict" if verdict == "agrees" and vacuous else verdict
    diagnosis = diagnose(name, results, dtype, kind, model)
    if verdict == "no verdict" and vacuous:
        diagnosis = Diagnosis(f"no verdict: the reference is exactly 0 in every case, so the loss does not depend on "
                              f"{name} in these cases, and a candidate's zeros agree with nothing checked", "vacuous")
    elif verdict == "no verdict" and not unjudged:
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
    kind = type(value)  # the common leaves first: a sweep of 2000 cases has a quarter of a million
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return value if math.isfinite(value) else str(value)
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


def _failures(results, model):
    """The candidate's failed calls, each kind of failure once (messages that differ only in their numbers,
    such as shapes, are one kind), with the first message and the cases it happened in."""
    groups = {}
    for r in results:
        for what, failure in (("grad", r.failure), ("stages", r.stage_failure)):
            if failure:
                key = (what, failure["kind"], re.sub(r"\d+", "#", failure["message"]))
                groups.setdefault(key, (model.locate(failure["message"], r.case), []))[1].append(r.case)
    return [{"function": what, "kind": kind, "message": message, "cases": [c.index for c in cases],
             "first_case": cases[0].describe()} for (what, kind, _), (message, cases) in groups.items()]


def _witness(results):
    """What every mode's witness says; the problem adds its own words."""
    witnessed = [r for r in results if r.witness_ok is not None]
    return {
        "ok": all(r.witness_ok for r in witnessed),
        "tolerance": FD_RTOL,
        "cases_checked": len(witnessed),
        "cases_skipped": len(results) - len(witnessed),
        "max_error": float(np.max([r.witness_error for r in witnessed])) if witnessed else None,  # nan stays nan
    }


def _rtols(dtypes):
    return " and ".join(f"{tolerance(d).rtol:g}" for d in dtypes)


def build(results, *, output, candidate_name, problem, seed):
    """The whole report as a JSON-ready dict, for the `results` of `problem`'s sweep drawn from `seed`."""
    settings = problem.settings(results)
    dtype, model = settings["dtype"], problem.model
    dtypes = settings.get("dtypes", [dtype])
    names = list(results[0].parameters)
    pairs = {name: _summary(name, results, dtype, "parameters", model) for name in names}
    parameters = {name: summary for name, (summary, _) in pairs.items()}
    stages = {}
    if settings.get("checked_stages"):
        stages = {name: _summary(name, results, dtype, "stages", model)[0] for name in results[0].stages}
    failures = _failures(results, model)
    extra_keys = sorted({k for r in results for k in r.extra_keys})
    modified = sorted({m for r in results for m in r.modified_inputs})
    data_cases = model.data_cases(results)
    wrong_in_data = [name for name in names if any(not r.parameters[name].ok and r.parameters[name].problem
                                                   not in NO_VERDICT for r in data_cases)]
    complete = not failures
    judged = [*parameters.values(), *stages.values()]
    # Wrong: anything the candidate did in a case with a verdict. No verdict: the rest is right, but some case or
    # parameter could not be judged (the reference not to be trusted there, or no entry off a kink).
    findings = _findings(results)
    wrong = (not complete or extra_keys or modified or findings or any(p["verdict"] == "wrong" for p in judged))
    verdict = "fail" if wrong else "no verdict" if any(p["verdict"] == "no verdict" for p in judged) else "pass"
    tol = tolerance(dtype)
    config = {"mode": settings["mode"], "cases": len(results), "seed": seed,
              "dtype": " and ".join(np.dtype(d).name for d in dtypes), "tolerance": {"rtol": tol.rtol, "atol": tol.atol},
              **problem.report_settings(results)}
    report = {
        "ok": verdict == "pass",
        "verdict": verdict,
        "complete": complete,
        "candidate": candidate_name,
        "config": config,
        "not_covered": problem.not_covered(results),
        "warnings": problem.warnings(results),
        "parameters": parameters,
        "stages": stages,
        "failures": failures,
        "hint": hint({name: d for name, (_, d) in pairs.items()}, wrong_in_data, model),
        "extra_keys": extra_keys,
        "modified_inputs": modified,
        "findings": findings,
        "witness": {**_witness(results), **problem.witness_summary(results)},
        "output": {name: tally.to_json() for name, tally in output.items()},
        "cases": [r.to_json() for r in results],
    }
    common = f"{len(results)} cases{problem.size_words()}, {config['dtype']} (rtol {_rtols(dtypes)}), seed {seed}"
    report["heading"] = [problem.heading(report), f"{common}, {problem.cases_words(report)}"]
    return _plain(report)


def _findings(results):
    """What the problem found wrong with the candidate beyond its values, by kind: the words of the first case
    found, how many cases, and which was first."""
    found = {}
    for r in results:
        for f in r.findings:
            entry = found.setdefault(f["kind"], {"kind": f["kind"], "words": f["words"], "cases": 0,
                                                 "first_case": r.case.describe()})
            entry["cases"] += 1
    return list(found.values())


def load_failure(candidate_name, message):
    """The report of a candidate that could not be loaded: no case ran."""
    return {"ok": False, "verdict": "usage error", "complete": False, "candidate": candidate_name, "load_error": message,
            "parameters": {}, "stages": {}, "failures": [], "findings": [], "cases": []}
