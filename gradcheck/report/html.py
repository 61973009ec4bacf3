"""The report as a page a person reads: `gradcheck --html PATH`, and a report's display in a notebook.

One self-contained file: its CSS inline, the heatmaps as inline SVG, a few
lines of script to sort the cases, nothing fetched from a network. It says
what the terminal table says (text.py writes both from the same pieces),
with the command that reproduces it, the heatmaps of the worst case, and
every case, sortable and expandable. It reads on a laptop and on a phone: the
tables scroll sideways within the page rather than stretching it.
"""

import html as escape
import importlib.util
import io
import itertools
from importlib import metadata

from jinja2 import Environment, PackageLoader, select_autoescape

from . import text

_ENVIRONMENT = Environment(loader=PackageLoader("gradcheck.report", "templates"),
                           autoescape=select_autoescape(["j2"]), trim_blocks=False)
_IDS = itertools.count()
NO_MATPLOTLIB = "The heatmaps need matplotlib: pip install -e '.[plot]'."


def figure_svg(results, report):
    """The heatmaps of plot.figure as an SVG string, or None without matplotlib."""
    if importlib.util.find_spec("matplotlib") is None:
        return None
    import matplotlib.pyplot as plt

    from .plot import figure

    fig = figure(results, report)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]  # without the XML prologue, to sit inside the page


def _number(x):
    return "-" if x is None else str(x) if isinstance(x, str) else f"{x:.2e}"


def _cases(report):
    """The columns and rows of the cases' table: each case's own columns (case.columns()), then its verdict."""
    columns = [{"title": title, "numeric": numeric} for title, _, _, numeric in report["cases"][0]["columns"]]
    columns += [{"title": "failed", "numeric": True}, {"title": "errors", "numeric": False}]
    rows = []
    for case in report["cases"]:
        failing = [name for name, p in case["parameters"].items() if not p["ok"]]
        cells = [(text, sort) for _, text, sort, _ in case["columns"]] + [(len(failing), len(failing))]
        rows.append({
            "ok": case["ok"],
            "cells": [{"text": text, "sort": sort, "css": "num" if column["numeric"] else ""}
                      for (text, sort), column in zip(cells, columns)],
            "summary": "all agree" if case["ok"] else f"wrong: {', '.join(failing) or 'see below'}",
            "parameters": [{"name": name, "verdict": "ok" if p["ok"] else "FAIL",
                            "error": _number(p.get("rel_error")), "problem": p.get("problem") or ""}
                           for name, p in case["parameters"].items()],
            "failure": case["failure"]["message"] if case.get("failure") else "",
        })
    return columns, rows


def _versions():
    def version(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "?"

    return f"handgrad {version('handgrad')}, NumPy {version('numpy')}, JAX {version('jax')}"


def render_page(report, *, figure=None, command, fragment=False):
    """The page (or, with fragment=True, the part a notebook shows) for a report dict.

    figure: the heatmaps' SVG, or None (without matplotlib, or with no arrays to draw).
    command: how to reproduce the report.
    """
    if "load_error" in report:
        return (f"<div class='gradcheck-report'><p><strong>gradcheck: FAIL</strong> — "
                f"{escape.escape(report['load_error'])}</p><pre>{escape.escape(command)}</pre></div>")
    case_columns, cases = _cases(report)
    return _ENVIRONMENT.get_template("report.html.j2").render(
        report=report, heading=text.heading(report), command=command, notes=text.notes(report),
        badge=text.VERDICTS[report["verdict"]], tone={"pass": "ok", "fail": "fail"}.get(report["verdict"], "none"),
        rows=[dict(zip(("name", "status", "failed", "error", "worst", "diagnosis"), row))
              for row in text.parameter_rows(report)],
        witness=text.witness_line(report), taylor=text.taylor_line(report), figure=figure,
        figure_note=NO_MATPLOTLIB if importlib.util.find_spec("matplotlib") is None else
        "No heatmap: the candidate gave no arrays to compare.",
        case_columns=case_columns, cases=cases, footer=f"{text.verdict_line(report)}. {_versions()}.",
        uid=f"gradcheck-{next(_IDS)}", fragment=fragment)
