"""The report drawn for people: a table for the terminal.

Nothing here prints a number that roundoff decides: an agreeing parameter
shows "< tol", not its error at 1e-16 or the entry where that error happens
to be largest.
"""



def _number(x):
    if x is None:
        return "-"
    return x if isinstance(x, str) else f"{x:.2e}"  # "inf" stays a word


def table(rows, header):
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    return ["  ".join([str(cell).ljust(width) for cell, width in zip(row, widths)] + [str(row[-1])])
            for row in [header, *rows]]


def _size(n):
    return f"{n} B" if n < 1000 else f"{n / 1000:.3g} kB" if n < 10**6 else f"{n / 10**6:.3g} MB"


def _plural(n, word):
    return f"{n} {word}{'s' * (n != 1)}"


def _in_cases(cases, total):
    return f"in all {total} cases" if len(cases) == total else f"in {len(cases)} of {total} cases"


def failure_lines(report):
    """One line per kind of failed call, each said once."""
    total = report["config"]["cases"]
    lines = []
    for f in report["failures"]:
        who = "the candidate" if f["function"] == "grad" else "the candidate's stages()"
        if f["kind"] == "not run":
            lines.append(f"FAIL: {_plural(len(f['cases']), 'case')} {f['message']}")
            continue
        line = f"FAIL: {who} {f['message']} {_in_cases(f['cases'], total)}"
        if f["kind"] == "returned":
            keys = report["parameters"] if f["function"] == "grad" else report["stages"]
            line += f"; expected a dict with keys {', '.join(keys)}"
        lines.append(line + ("" if len(f["cases"]) == total else f" (first: {f['first_case']})"))
    return lines


def output_line(report):
    """What the candidate printed, said but not shown."""
    parts = [f"{_plural(o['lines'], 'line')} ({_size(o['bytes'])}) to {name}"
             for name, o in report["output"].items() if o["bytes"]]
    if not parts:
        return None
    first = next(o["first_line"] for o in report["output"].values() if o["bytes"])
    return f"note: the candidate printed {' and '.join(parts)}, not shown here (first line: {first[:80]!r})"


def heading(report):
    """The first two lines: what was checked against what, and over which cases (the problem's words)."""
    return report["heading"]


def _slope(s):
    return "at rounding" if s is None else f"{s:.1f}"


def taylor_line(report):
    """The Taylor remainder test of the candidate's gradient, per parameter."""
    slopes = report["witness"].get("taylor")
    if not slopes:
        return None
    parts = [f"{name} {_slope(s['candidate']['slope'])}" for name, s in slopes.items() if s["candidate"]["cases"]]
    return ("taylor: |F(θ + h v) − F(θ) − h⟨g, v⟩| falls as h to the power " + ", ".join(parts)
            + " (2 for a right gradient, 1 for a wrong one; at rounding where F is linear near θ)") if parts else None


STATUS = {"agrees": "ok", "wrong": "FAIL", "no verdict": "no verdict"}
# The report's verdict: its badge, what it says of the candidate, and the exit status it gives.
VERDICTS = {"pass": ("OK", "agrees with autodiff"), "fail": ("FAIL", "is wrong"),
            "no verdict": ("NO VERDICT", "could not be judged everywhere")}


def parameter_rows(report):
    """(name, status, failed, max rel err, worst entry, diagnosis) for every parameter and stage; status is
    "ok", "FAIL" or "no verdict"."""
    rows = []
    for kind in ("parameters", "stages"):
        for name, p in report[kind].items():
            worst = p["worst"]
            where = "-" if worst is None else f"{tuple(worst['index'])}: {worst['candidate']:.4g} vs {worst['reference']:.4g}"
            error = "< tol" if p["ok"] else _number(p["max_rel_error"]) if worst else "-"
            rows.append((name, STATUS[p["verdict"]], f"{p['cases_failed']}/{p['cases']}", error, where, p["diagnosis"]))
    return rows


def notes(report):
    """("fail" or "", line) for everything said below the table but the witnesses: failures, the hint,
    extra keys, changed inputs, what was not covered, the candidate's output, warnings."""
    lines = [("fail", line) for line in failure_lines(report)]
    if report["hint"]:
        lines.append(("", f"hint: {report['hint']}"))
    if report["extra_keys"]:
        lines.append(("fail", f"FAIL: unexpected keys in the candidate's result: {report['extra_keys']}"))
    if report["modified_inputs"]:
        lines.append(("fail", f"FAIL: the candidate modified its inputs in place: {', '.join(report['modified_inputs'])}"))
    for f in report.get("findings", []):
        lines.append(("fail", f"FAIL: {f['words']} ({_plural(f['cases'], 'case')}, the first {f['first_case']})"))
    if report["not_covered"]:
        c = report["config"]
        lines.append(("", f"not covered by {_plural(c['cases'], 'case')}: {', '.join(report['not_covered'])} "
                          f"(--cases {c['cases_to_cover']} or more covers them)"))
    if output_line(report):
        lines.append(("", output_line(report)))
    lines += [("", f"warning: {warning}") for warning in report.get("warnings", [])]
    return lines


def witness_line(report):
    w = report["witness"]
    if w.get("none"):  # a product no finite difference can take
        return f"witness: none, {w['none']}"
    if w["ok"]:
        verdict = f"agree with the reference in {_plural(w['cases_checked'], 'case')} (within {w['tolerance']:g} of {w['scale']}"
    else:
        verdict = (f"DISAGREE with the reference (worst {_number(w['max_error'])} of {w['scale']}, tolerance "
                   f"{w['tolerance']:g}; {_plural(w['cases_checked'], 'case')} checked")
    if "entries_at_kinks" in w:  # kinks judged entry by entry
        entries = w["entries_at_kinks"]
        return (f"witness: finite differences {verdict}"
                + (f"; {entries} entr{'y' if entries == 1 else 'ies'} in {_plural(w['cases_at_kinks'], 'case')} "
                   "on kinks, where the candidate lies between the one-sided slopes, not held against it" if entries else "")
                + ")")
    kinks = w["cases_at_kinks"]  # cases built on a kink, left out of the witness
    sampled_out = w["cases_skipped"] - kinks if "sampling" in w else 0
    return (f"witness: finite differences {verdict}"
            + (f"; {_plural(kinks, 'case')} at kinks skipped" if kinks else "")
            + (f"; after the first {w['sampling']['every case up to']} cases, one in "
               f"{w['sampling']['then one in']}" if sampled_out else "")
            + ")")


def verdict_line(report):
    """The last line: OK, FAIL or NO VERDICT, as the exit status says (0, 1, 3)."""
    if report["verdict"] == "pass":
        return "OK: the candidate agrees with autodiff"
    if report["verdict"] == "fail":
        return "FAIL: the candidate is wrong"
    unjudged = [name for name, p in [*report["parameters"].items(), *report["stages"].items()]
                if p["verdict"] == "no verdict"]
    return (f"NO VERDICT: {_listed(unjudged)} could not be judged in some cases (see above); no fault was found "
            "elsewhere, and nothing here is a pass")


def _listed(names):
    return " and ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + " and " + names[-1]


def text(report):
    """A table a person reads on the terminal."""
    lines = [*heading(report), ""]
    lines += table(parameter_rows(report), ["", "", "failed", "max rel err", "worst entry (candidate vs reference)",
                                             "diagnosis"])
    lines.append("")
    lines += [line for _, line in notes(report)]
    if taylor_line(report):
        lines.append(taylor_line(report))
    lines.append(witness_line(report))
    if not report["witness"]["ok"]:
        lines.append("NO VERDICT where the reference itself disagrees with finite differences: it cannot be trusted "
                     "in those cases")
    lines.append(verdict_line(report))
    return "\n".join(lines)
