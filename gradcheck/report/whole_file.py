"""The report of a whole file (problems.course): one row per function checked, each with the report its own mode
gives, and one verdict: a pass only where every function was judged and agrees."""

import html

from .text import VERDICTS, failure_lines, table, text

VERDICT_WORDS = {"pass": "ok", "fail": "FAIL", "no verdict": "no verdict"}


def _summary(report):
    """A few words for a function's report: what is wrong first (the wrong gradients' names, and the first one's
    diagnosis up to its details), then what could not be judged."""
    if report["verdict"] == "pass":
        return "agrees"
    wrong = {name: p["diagnosis"] for kind in ("parameters", "stages") for name, p in report[kind].items()
             if p["verdict"] == "wrong"}
    wrong = [f"{', '.join(wrong)}: {next(iter(wrong.values())).split(';')[0]}"] if wrong else []
    other = [line.removeprefix("FAIL: ") for line in failure_lines(report)]
    other += [f"modified its inputs in place: {', '.join(report['modified_inputs'])}"] * bool(report["modified_inputs"])
    other += [f"unexpected keys {report['extra_keys']}"] * bool(report["extra_keys"])
    other += [f["words"] for f in report.get("findings", [])]
    unjudged = [name for kind in ("parameters", "stages") for name, p in report[kind].items()
                if p["verdict"] == "no verdict"]
    words = wrong + other or [f"{', '.join(unjudged)} not judged in some cases (see below)"]
    return words[0] + (f" (and {len(words) - 1} more, below)" if len(words) > 1 else "")


def row(function, path, report=None, reason=None):
    """One function's row: its report, or the reason it has none (no verdict)."""
    against = (f"jax.vjp of {function.forward}" if function.mode == "layer" and function.forward
               else "jax.grad of its own loss" if function.mode == "value_and_grad" else "-")
    return {"function": function.name, "candidate": f"{path}:{function.name}", "against": against,
            "inputs": function.inputs(), "verdict": report["verdict"] if report else "no verdict",
            "summary": _summary(report) if report else reason, "report": report}


class FileReport(dict):
    """The report: a dict, JSON-ready as it is, which a notebook shows as the terminal's table."""

    def _repr_html_(self):
        return f"<pre>{html.escape(file_text(self))}</pre>"


def build(path, rows, *, cases, seed, dtype):
    verdicts = {r["verdict"] for r in rows}
    verdict = "fail" if "fail" in verdicts else "no verdict" if "no verdict" in verdicts else "pass"
    return FileReport({"ok": verdict == "pass", "verdict": verdict, "mode": "file", "file": str(path),
                       "config": {"cases": cases, "seed": seed, "dtype": str(dtype) if dtype else "as sampled"},
                       "functions": rows})


def file_text(report):
    """The table, then the report of every function that did not pass, as its own mode prints it."""
    c = report["config"]
    dtype = "float64 unless a sampler draws float32" if c["dtype"] == "as sampled" else c["dtype"]
    lines = [f"gradcheck: every layer and loss of {report['file']}, each against autodiff of the file's own NumPy "
             "forward or loss (run with jax.numpy)",
             f"{c['cases']} cases each, {dtype}, seed {c['seed']}", ""]
    lines += table([(r["function"], r["against"], r["inputs"], VERDICT_WORDS[r["verdict"]], r["summary"])
                     for r in report["functions"]], ["function", "checked against", "inputs", "", ""])
    lines = [line.rstrip() for line in lines]
    for r in report["functions"]:
        if r["verdict"] != "pass" and r["report"] is not None:
            lines += ["", f"── {r['function']} " + "─" * 40, text(r["report"])]
    counts = {v: sum(r["verdict"] == v for r in report["functions"]) for v in VERDICT_WORDS}
    total = len(report["functions"])
    badge = VERDICTS[report["verdict"]][0]
    if report["verdict"] == "pass":
        tail = f"all {total} functions agree with autodiff" if total > 1 else "the function agrees with autodiff"
    else:
        tail = ", ".join(f"{counts[v]} {words}" for v, words in (("fail", "wrong"), ("no verdict", "not judged"),
                                                                  ("pass", "agree")) if counts[v])
        tail += f", of {total} function{'s' * (total != 1)}"
    warnings = [f"warning: {r['function']}: {w}" for r in report["functions"]
                if r["verdict"] == "pass" for w in r["report"].get("warnings", [])]
    lines += ["", *warnings, f"{badge}: {tail}"] if warnings else ["", f"{badge}: {tail}"]
    return "\n".join(lines)
