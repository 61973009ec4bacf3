"""The report of --integrable (problems.integrable): for each pair of parameters, in how many cases the candidate's
Jacobian is not symmetric, and the verdict, "fail" or "no verdict": never a pass, with no loss to compare with."""

import itertools
import xml.etree.ElementTree as ET

from .text import output_line, table


def build(results, *, output, candidate_name, config):
    failures = {}
    for r in results:
        if r["failure"]:
            failures.setdefault(r["failure"], []).append(r["index"])
    pairs = {}
    for r in results:
        for name, pair in r["pairs"].items():
            summary = pairs.setdefault(name, {"cases": 0, "asymmetric_cases": 0, "worst": None})
            summary["cases"] += 1
            summary["asymmetric_cases"] += pair["asymmetric"]
            worst = summary["worst"]
            if pair["asymmetric"] and (worst is None or pair["relative"] > worst["relative"]):
                summary["worst"] = {"case": r["index"], "shapes": r["shapes"], "relative": pair["relative"],
                                    "asymmetry": pair["asymmetry"]}
    asymmetric = [name for name, p in pairs.items() if p["asymmetric_cases"]]
    verdict = "fail" if asymmetric or failures else "no verdict"
    return {"ok": False, "verdict": verdict, "mode": "integrable", "candidate": candidate_name,
            "config": {**config, "cases": len(results)}, "pairs": pairs, "asymmetric": asymmetric,
            "suspects": _suspects(pairs, asymmetric),
            "failures": [{"message": m, "cases": c, "first_case": c[0]} for m, c in failures.items()],
            "output": {name: tally.to_json() for name, tally in output.items()}}


def _suspects(pairs, asymmetric, most=12):
    """The parameters outside the largest set whose every pair (each with itself too) is symmetric, where there
    is one largest such set: their gradients are where to look first. None where that cannot be told."""
    names = list(dict.fromkeys(p for pair in pairs for p in pair.split("/")))
    if not asymmetric or len(names) > most:
        return None
    bad = {tuple(pair.split("/")) for pair in asymmetric}
    clean = lambda group: not any((p, q) in bad or (q, p) in bad for p, q in
                                  itertools.combinations_with_replacement(group, 2))
    for size in range(len(names) - 1, 0, -1):
        found = [group for group in itertools.combinations(names, size) if clean(group)]
        if found:
            return [n for n in names if n not in found[0]] if len(found) == 1 else None
    return None


def _plural(n, word):
    return f"{n} {word}{'s' * (n != 1)}"


def verdict_line(report):
    total = report["config"]["cases"]
    if report["verdict"] == "fail" and report["asymmetric"]:
        cases = max(report["pairs"][name]["asymmetric_cases"] for name in report["asymmetric"])
        line = (f"FAIL: not the gradient of any loss: its Jacobian is not symmetric (∂g_p/∂q ≠ (∂g_q/∂p)ᵀ) for "
                f"{_plural(len(report['asymmetric']), 'pair')} of parameters of {len(report['pairs'])}, in up to "
                f"{cases} of {total} cases, the same at both steps")
        if report["suspects"]:
            rest = [n for n in dict.fromkeys(p for pair in report["pairs"] for p in pair.split("/"))
                    if n not in report["suspects"]]
            line += (f"; every pair among {', '.join(rest)} is symmetric: look first at the gradients of "
                     f"{', '.join(report['suspects'])}")
        return line
    if report["verdict"] == "fail":
        return "FAIL: the candidate failed (see above)"
    return ("NO VERDICT: its Jacobian is symmetric in every case, as a gradient's must be: it is the gradient of some "
            "loss, and only that loss (--loss) can say whether it is the right one")


def text(report):
    c = report["config"]
    lines = [f"gradcheck: is {report['candidate']} the gradient of any loss? ⟨u, J v⟩ = ⟨v, J u⟩, J from its own "
             "central differences (no loss given)",
             f"{_plural(c['cases'], 'case')}, {c['dtype']}, seed {c['seed']}, cases from {c['sampler']}; steps h and "
             "h/2 of its dtype", ""]
    rows = [(name, f"{p['asymmetric_cases']}/{p['cases']}",
             f"{p['worst']['relative']:.2e} (case {p['worst']['case']})" if p["worst"] else "< tol")
            for name, p in report["pairs"].items()]
    if rows:
        lines += table(rows, ["pair", "asymmetric", "worst |⟨u, J v⟩ − ⟨v, J u⟩| / (‖J u‖ + ‖J v‖)"])
        lines.append("")
    lines += [f"FAIL: the candidate {f['message']} in {_plural(len(f['cases']), 'case')} (first: case "
              f"{f['first_case']})" for f in report["failures"]]
    if output_line(report):
        lines.append(output_line(report))
    lines.append(verdict_line(report))
    return "\n".join(line.rstrip() for line in lines)


def junit(report):
    """One test case per pair of parameters and one for the candidate's calls; no verdict fails, as its exit
    status (3) does."""
    suite = ET.Element("testsuite", name="gradcheck --integrable")
    tests = [(f"symmetry.{name}", not p["asymmetric_cases"], f"asymmetric in {p['asymmetric_cases']} of "
              f"{p['cases']} cases") for name, p in report["pairs"].items()]
    tests.append(("candidate.calls", not report["failures"], "; ".join(f["message"] for f in report["failures"])))
    if report["verdict"] == "no verdict":
        tests.append(("verdict", False, verdict_line(report)))
    for name, ok, message in tests:
        case = ET.SubElement(suite, "testcase", classname=f"gradcheck.{report['candidate']}", name=name)
        if not ok:
            ET.SubElement(case, "failure", message=message).text = message
    suite.set("tests", str(len(tests)))
    suite.set("failures", str(sum(not ok for _, ok, _ in tests)))
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)
