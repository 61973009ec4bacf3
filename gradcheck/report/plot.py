"""`gradcheck --plot`: |candidate − reference| for every parameter, in the sweep's worst case, on one scale.

Each entry's error is divided by its share of the parameter's tolerance (the
normwise bound spread over its entries), and every panel shares one log colour
scale: an agreeing parameter, whose errors are roundoff far below 1, stays dark,
and only what is wrong lights up. A weight matrix is drawn with its bias as a
strip beneath it, on the same columns, where the two pair up (W1 and b1); any
other parameter gets a panel of its own (a vector as a strip, an array of more
than two dimensions flattened to its first axis by the rest). matplotlib is an
optional extra (pip install -e '.[plot]').
"""

import textwrap

import numpy as np

from jax_reference.tolerances import tolerance

# The shared scale: error / tolerance from SCALE_MIN (roundoff of a right gradient sits below) up to at most
# SCALE_MAX (beyond it, a mistake is no more wrong to the eye).
SCALE_MIN, SCALE_MAX = 1e-3, 1e20


def worst_case(results):
    """The case to draw: the largest relative error of any failing parameter; where all agree, the case with
    the most entries (not the one where roundoff happens to be largest, which differs between machines)."""
    def badness(r):
        failing = [c.rel_error for c in r.parameters.values() if not c.ok and c.rel_error is not None]
        return min(max(failing, default=0.0), 1e300)

    def size(r):
        return sum(np.size(v) for v in r.arrays["reference"].values())

    if any(badness(r) > 0 for r in results):
        return max(results, key=badness)
    return max(results, key=size)


def _difference(candidate, reference, bound, excused=()):
    """(|candidate − reference| / the entry's share of the tolerance, or None; a note on what was drawn).
    excused: flat indices of entries on a kink, where the derivative is a convention: drawn as agreeing."""
    per_entry = max(bound, 1e-300) / np.sqrt(max(reference.size, 1))
    if candidate is None:
        return None, "missing from the candidate's result"
    if candidate.shape == reference.shape:
        gap = np.asarray(np.abs(candidate.astype(np.float64) - reference) / per_entry)
        gap.flat[np.asarray(excused, np.int64)] = 0.0
        return gap, f"{len(excused)} entries on kinks not drawn" if len(excused) else None
    if candidate.ndim == 2 and candidate.shape == reference.shape[::-1]:
        return np.abs(candidate.T.astype(np.float64) - reference) / per_entry, "drawn after transposing the candidate"
    return None, f"shape {candidate.shape}, expected {reference.shape}: nothing to draw"


def _image(gap):
    gap = np.atleast_1d(gap)
    return gap[None, :] if gap.ndim == 1 else gap.reshape(gap.shape[0], -1)


def columns(reference):
    """Panels by column: a weight with the bias of its columns beneath it where they pair up, else alone."""
    result, used = [], set()
    for name, array in reference.items():
        if name in used:
            continue
        partner = "b" + name[1:] if name.startswith("W") else None
        if partner in reference and array.ndim == 2 and reference[partner].shape == (array.shape[1],):
            result.append([name, partner])
            used |= {name, partner}
        else:
            result.append([name])
            used.add(name)
    return result


def figure(results, report):
    """The matplotlib figure for `results` (from a sweep) and `report`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import MaxNLocator

    r = worst_case(results)
    reference = r.arrays["reference"]
    panels = columns(reference)
    gaps = {}
    for name in reference:
        comparison = r.parameters[name]
        candidate = r.arrays["candidate"].get(name)
        # A comparison that stopped at the shape has no bound of its own: the reference's norm gives one.
        bound = comparison.bound or tolerance(r.dtype).atol + tolerance(r.dtype).rtol * np.linalg.norm(reference[name])
        gaps[name] = (None, f"the candidate {r.failure['message']}") if r.failure else \
            _difference(candidate, reference[name], bound, r.arrays.get("excused", {}).get(name, ()))
    top = max([float(np.max(g)) for g, _ in gaps.values() if g is not None and np.size(g)], default=1.0)
    norm = LogNorm(vmin=SCALE_MIN, vmax=min(max(1e3, top), SCALE_MAX))
    fig, axes = plt.subplots(2, len(panels), figsize=(max(6.0, 4.2 * len(panels)), 7.0), layout="constrained",
                             gridspec_kw={"height_ratios": [4, 1]}, squeeze=False)
    shown = None
    for column, names in enumerate(panels):
        for row in range(2):
            ax = axes[row][column]
            if row >= len(names):
                ax.axis("off")
                continue
            name = names[row]
            gap, note = gaps[name]
            summary = report["parameters"][name]
            title = f"{name} {'ok' if summary['ok'] else 'FAIL'}"
            if gap is not None:
                image = _image(gap)
                shown = ax.imshow(np.clip(image, SCALE_MIN, SCALE_MAX), aspect="auto", cmap="magma",
                                  interpolation="nearest", norm=norm)
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
                ax.yaxis.set_major_locator(MaxNLocator(integer=True))
                if image.shape[0] == 1:
                    ax.set_yticks([])
                # An agreeing parameter's largest error is roundoff, whose digits differ between machines.
                title += f": largest error {np.max(image):.2g} × tolerance" if not summary["ok"] else ": within tolerance"
            else:
                ax.set_xticks([])
                ax.set_yticks([])
            words = summary["diagnosis"] + (f" ({note})" if note else "")
            ax.set_title(title + "\n" + "\n".join(textwrap.wrap(words, 70)), fontsize=8, loc="left",
                         color="black" if summary["ok"] else "firebrick")
    if shown is not None:
        bar = fig.colorbar(shown, ax=axes.ravel().tolist(), fraction=0.025, pad=0.01)
        bar.set_label("|candidate − reference| / tolerance per entry (≤ 1 agrees)", fontsize=8)
    verdict = "agrees with autodiff" if report["ok"] else "is wrong"
    fig.suptitle(f"{report['candidate']} {verdict}. Errors in {r.case.describe()}", fontsize=10)
    return fig


def plot(results, report, path):
    """Writes the figure to `path` (PNG)."""
    import matplotlib.pyplot as plt

    fig = figure(results, report)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
