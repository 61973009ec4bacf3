"""`gradcheck --plot`: per parameter, a heatmap of |candidate − reference| in its worst case.

A wrong bias shows as a lit row, an error confined to one hidden unit as a lit
column, a correct gradient as roundoff speckle around 1e-16. matplotlib is an
optional extra (pip install -e '.[plot]').
"""

import textwrap

import numpy as np

# Differences below this are drawn as this: roundoff of a correct float64 gradient sits above it.
FLOOR = 1e-18


def _worst(results, name):
    failed = [r for r in results if not r.parameters[name].ok]
    pool = failed or results
    return max(pool, key=lambda r: r.parameters[name].abs_error or 0.0)


def plot(results, report, path):
    """Writes the figure for `results` (from `check.sweep`) and `report` to `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    fig, axes = plt.subplots(1, 4, figsize=(16, 4.6), gridspec_kw={"width_ratios": [3, 1, 3, 1]})
    for ax, name in zip(axes, ("W1", "b1", "W2", "b2")):
        r = _worst(results, name)
        reference = r.arrays["reference"][name]
        candidate = r.arrays["candidate"].get(name)
        summary = report["parameters"][name]
        status = "ok" if summary["ok"] else "FAIL"
        title = f"{name} {status}: {r.case.describe()}"
        gap, note = None, None
        if candidate is not None and candidate.shape == reference.shape:
            gap = np.abs(candidate.astype(np.float64) - reference)
        elif candidate is not None and candidate.shape == reference.shape[::-1] and candidate.ndim == 2:
            gap, note = np.abs(candidate.T.astype(np.float64) - reference), "drawn after transposing the candidate"
        else:
            shape = "missing" if candidate is None else f"shape {candidate.shape}"
            note = f"nothing to draw: {shape}, expected {reference.shape}"
        if gap is not None:
            image = np.atleast_2d(gap)
            if name.startswith("b"):
                image = image.T  # a bias of H or K entries as a column beside its weight matrix's columns
            shown = ax.imshow(np.maximum(image, FLOOR), aspect="auto", cmap="magma",
                              norm=LogNorm(vmin=FLOOR, vmax=max(FLOOR * 10, image.max())))
            fig.colorbar(shown, ax=ax, fraction=0.08, pad=0.03)
            labels = {"W1": ("hidden unit", "input"), "W2": ("class", "hidden unit"),
                      "b1": ("", "hidden unit"), "b2": ("", "class")}[name]
            ax.set_xlabel(labels[0])
            ax.set_ylabel(labels[1])
            if name.startswith("b"):
                ax.set_xticks([])
        else:
            ax.axis("off")
        ax.set_title("\n".join(textwrap.wrap(title, 38)), fontsize=8)
        words = summary["diagnosis"] + (f" ({note})" if note else "")
        ax.text(0.5, -0.18 if gap is not None else 0.5, "\n".join(textwrap.wrap(words, 44)), transform=ax.transAxes,
                ha="center", va="top" if gap is not None else "center", fontsize=8,
                color="black" if summary["ok"] else "firebrick")
    verdict = "agrees with autodiff" if report["ok"] else "is wrong"
    fig.suptitle(f"|candidate − reference| per parameter, worst case of each: {report['candidate']} {verdict}",
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

