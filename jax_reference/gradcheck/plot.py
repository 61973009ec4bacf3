"""`gradcheck --plot`: |candidate − reference| for every parameter, in the sweep's worst case.

Each weight matrix is drawn with its bias as a strip beneath it, on the same
columns (hidden units under W1, classes under W2), on a log scale: a wrong b1
lights its whole strip, an error confined to one hidden unit lights a column,
a correct gradient is roundoff speckle near 1e-16. matplotlib is an optional
extra (pip install -e '.[plot]').
"""

import textwrap

import numpy as np

# Differences below this are drawn as this: roundoff of a correct float64 gradient sits above it.
FLOOR = 1e-18


def worst_case(results):
    """The case to draw: the largest relative error of any failing parameter; where all agree, the largest
    case (not the one where roundoff happens to be largest, which differs between machines)."""
    def badness(r):
        failing = [c.rel_error for c in r.parameters.values() if not c.ok and c.rel_error is not None]
        return min(max(failing, default=0.0), 1e300)

    def size(r):
        return r.case.N * r.case.D * r.case.H * r.case.K

    if any(badness(r) > 0 for r in results):
        return max(results, key=badness)
    return max(results, key=size)


def _difference(candidate, reference):
    """(|candidate − reference| or None, a note on what was drawn)."""
    if candidate is None:
        return None, "missing from the candidate's result"
    if candidate.shape == reference.shape:
        return np.abs(candidate.astype(np.float64) - reference), None
    if candidate.ndim == 2 and candidate.shape == reference.shape[::-1]:
        return np.abs(candidate.T.astype(np.float64) - reference), "drawn after transposing the candidate"
    return None, f"shape {candidate.shape}, expected {reference.shape}: nothing to draw"


def plot(results, report, path):
    """Writes the figure for `results` (from `check.sweep`) and `report` to `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import MaxNLocator

    r = worst_case(results)
    fig, axes = plt.subplots(2, 2, figsize=(12, 6.5), gridspec_kw={"height_ratios": [4, 1]}, squeeze=False)
    for column, (weight, bias, rows, cols) in enumerate((("W1", "b1", "input", "hidden unit"),
                                                         ("W2", "b2", "hidden unit", "class"))):
        for row, name in enumerate((weight, bias)):
            ax = axes[row][column]
            summary = report["parameters"][name]
            gap, note = _difference(r.arrays["candidate"].get(name), r.arrays["reference"][name])
            if r.failure:
                gap, note = None, f"the candidate {r.failure['message']}"
            title = f"{name} {'ok' if summary['ok'] else 'FAIL'}"
            if gap is not None:
                image = np.atleast_2d(gap)  # a bias is one row
                shown = ax.imshow(np.maximum(image, FLOOR), aspect="auto", cmap="magma", interpolation="nearest",
                                  norm=LogNorm(vmin=FLOOR, vmax=max(10 * FLOOR, image.max())))
                fig.colorbar(shown, ax=ax, fraction=0.05, pad=0.02)
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
                ax.yaxis.set_major_locator(MaxNLocator(integer=True))
                if row == 0:
                    ax.set_ylabel(rows)
                else:
                    ax.set_yticks([])
                    ax.set_xlabel(cols)
                title += f": max |candidate − reference| = {image.max():.2g}"
            else:
                ax.set_xticks([])
                ax.set_yticks([])
            words = summary["diagnosis"] + (f" ({note})" if note else "")
            ax.set_title(title + "\n" + "\n".join(textwrap.wrap(words, 90)), fontsize=8, loc="left",
                         color="black" if summary["ok"] else "firebrick")
    verdict = "agrees with autodiff" if report["ok"] else "is wrong"
    fig.suptitle(f"{report['candidate']} {verdict}. |candidate − reference| in {r.case.describe()}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
