"""The report: a dict (written as JSON), a table for the terminal, and JUnit XML for CI."""

import xml.etree.ElementTree as ET

import numpy as np

import manual_grad as mg

from .diagnose import diagnose, hint


def _summary(name, results, dtype, kind):
    comparisons = [getattr(r, kind)[name] for r in results]
    failed = [(r, c) for r, c in zip(results, comparisons) if not c.ok]
    measured = [(r, c) for r, c in zip(results, comparisons) if c.rel_error is not None]
    summary = {
        "ok": not failed,
        "cases": len(results),
        "cases_failed": len(failed),
        "max_abs_error": max((c.abs_error for _, c in measured), default=None),
        "max_rel_error": max((c.rel_error for _, c in measured), default=None),
        "worst": None,
        "diagnosis": diagnose(name, results, dtype, kind),
    }
    if measured:
        r, c = max(measured, key=lambda rc: rc[1].abs_error)
        summary["worst"] = {"case": r.case.index, "index": list(c.worst_index),
                            "candidate": c.candidate_value, "reference": c.reference_value}
    return summary


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


def build(results, *, candidate_name, dtype, seed, checked_stages):
    """The whole report as a JSON-ready dict."""
    parameters = {name: _summary(name, results, dtype, "parameters") for name in mg.PARAM_NAMES}
    stages = {}
    if checked_stages:
        stages = {name: _summary(name, results, dtype, "stages") for name in ("delta3", "delta2")}
    witnessed = [r for r in results if r.witness_ok is not None]
    witness = {
        "ok": all(r.witness_ok for r in witnessed),
        "what": "central finite differences of manual_grad.loss in float64 against jax.grad of the reference",
        "cases_checked": len(witnessed),
        "cases_skipped": len(results) - len(witnessed),
        "max_error": max((r.witness_error for r in witnessed), default=None),
    }
    extra_keys = sorted({k for r in results for k in r.extra_keys})
    modified = sorted({m for r in results for m in r.modified_inputs})
    wrong = [name for name, p in parameters.items() if not p["ok"]]
    # The chain-rule hint is about the data term: judge it by the λ = 0 cases where there are some.
    data_cases = [r for r in results if r.case.lam == 0] or results
    wrong_in_data = [name for name in mg.PARAM_NAMES if any(not r.parameters[name].ok for r in data_cases)]
    if any(r.error for r in results):
        wrong_in_data = []  # a candidate that raised has no values to reason from
    ok = not wrong and not extra_keys and not modified and witness["ok"] and all(s["ok"] for s in stages.values())
    return _plain({
        "ok": ok,
        "candidate": candidate_name,
        "config": {"cases": len(results), "seed": seed, "dtype": np.dtype(dtype).name,
                   "activations": sorted({r.case.activation for r in results})},
        "parameters": parameters,
        "hint": hint(wrong_in_data),
        "extra_keys": extra_keys,
        "modified_inputs": modified,
        "witness": witness,
        "stages": stages,
        "cases": [r.to_json() for r in results],
    })


def _number(x):
    if x is None:
        return "-"
    return x if isinstance(x, str) else f"{x:.2e}"  # "inf" stays a word


def _table(rows, header):
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths)] + [str(row[-1])]
        lines.append("  ".join(cells))
    return lines


def text(report):
    """A table a person reads on the terminal."""
    c = report["config"]
    lams = [case["lam"] for case in report["cases"]]
    lines = [
        f"gradcheck: {report['candidate']} against jax.grad of jax_reference.loss",
        f"{c['cases']} cases, {c['dtype']}, seed {c['seed']}, activations {', '.join(c['activations'])}, "
        f"λ = 0 in {sum(lam == 0 for lam in lams)}, λ > 0 in {sum(lam > 0 for lam in lams)}",
        "",
    ]
    rows = []
    for kind in ("parameters", "stages"):
        for name, p in report[kind].items():
            worst = p["worst"]
            where = "-" if worst is None else f"{tuple(worst['index'])}: {worst['candidate']:.4g} vs {worst['reference']:.4g}"
            rows.append([name, "ok" if p["ok"] else "FAIL", f"{p['cases_failed']}/{p['cases']}",
                         _number(p["max_rel_error"]), where, p["diagnosis"]])
    lines += _table(rows, ["", "", "failed", "max rel err", "worst entry (candidate vs reference)", "diagnosis"])
    lines.append("")
    if report["hint"]:
        lines.append(f"hint: {report['hint']}")
    if report["extra_keys"]:
        lines.append(f"FAIL: unexpected keys in the candidate's result: {report['extra_keys']}")
    if report["modified_inputs"]:
        lines.append(f"FAIL: the candidate modified its inputs in place: {', '.join(report['modified_inputs'])}")
    w = report["witness"]
    lines.append(
        f"witness: finite differences {'agree' if w['ok'] else 'DISAGREE'} with the reference in "
        f"{w['cases_checked']} cases (worst {_number(w['max_error'])} of ‖g‖ + |J~|"
        + (f"; {w['cases_skipped']} cases at relu kinks skipped)" if w["cases_skipped"] else ")")
    )
    if not w["ok"]:
        lines.append("FAIL: the reference itself disagrees with finite differences; its verdicts cannot be trusted")
    lines.append("OK: the candidate agrees with autodiff" if report["ok"] else "FAIL: the candidate is wrong")
    return "\n".join(lines)


def junit(report):
    """JUnit XML: one test case per parameter and stage, and one for the witness."""
    suite = ET.Element("testsuite", name="gradcheck")
    properties = ET.SubElement(suite, "properties")
    for key, value in report["config"].items():
        ET.SubElement(properties, "property", name=key, value=str(value))
    tests = [(f"{kind}.{name}", p["ok"], p["diagnosis"]) for kind in ("parameters", "stages")
             for name, p in report[kind].items()]
    tests.append(("witness.finite_differences", report["witness"]["ok"], "the reference disagrees with finite differences"))
    if report["extra_keys"]:
        tests.append(("result.keys", False, f"unexpected keys {report['extra_keys']}"))
    if report["modified_inputs"]:
        tests.append(("inputs.unmodified", False, f"modified in place: {', '.join(report['modified_inputs'])}"))
    for name, ok, message in tests:
        case = ET.SubElement(suite, "testcase", classname=f"gradcheck.{report['candidate']}", name=name)
        if not ok:
            failure = ET.SubElement(case, "failure", message=message)
            failure.text = message + (f"\nhint: {report['hint']}" if report["hint"] else "")
    suite.set("tests", str(len(tests)))
    suite.set("failures", str(sum(not ok for _, ok, _ in tests)))
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)
