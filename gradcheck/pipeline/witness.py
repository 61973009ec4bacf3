"""The third witness: central finite differences of a scalar function, in float64, needing no autodiff.

One witness serves every mode. A problem gives it F, a function of a point (a dict of float64 arrays):
the seed model's J~ (manual_grad's NumPy loss), a user's NumPy loss, or a layer's ⟨dout, forward(inputs)⟩.
It checks the reference along a random unit direction per name (and, where asked, one entry drawn at
random), measures the Taylor remainders of a gradient, and probes single entries for kinks.

One kink rule, for directions and entries alike (`_probe`): along a direction, with steps h and h/2,

    D(s) = (F(θ + s v) − 2 F(θ) + F(θ − s v)) / s      the one-sided slopes' difference at step s
    jump = 2 D(h/2) − D(h)                              a smooth F's s F'' cancels; a kink at θ leaves its jump
    the central differences at h and at h/2 agree       a kink elsewhere on the segment makes them differ

A direction whose jump or disagreement exceeds KINK_NOISE · (‖g‖ + |F|) crosses a kink: it witnesses nothing
(rounding, at these steps in float64, is about 1e-10 of that scale, unless F is itself at the rounding of larger
terms, as a saturated softmax's log(1 + ε) is: there every direction looks rough, and the case goes
unwitnessed). An entry whose jump exceeds it sits on a kink, where the derivative is a convention: a candidate's
value there may lie anywhere between the one-sided slopes (each corrected for curvature by the same two steps).
"""

import numpy as np

from jax_reference.tolerances import FD_RTOL, FD_STEP

KINK_NOISE = 1e-8
# At most this many entries per parameter and case are probed for a kink.
MAX_PROBES = 500
# The Taylor remainder test's steps: F(θ + h v) − F(θ) − h ⟨g, v⟩ falls as h² for the right gradient, as h
# for a wrong one. Remainders below ROUNDOFF · max(|F|, scale) are rounding, and left out of the fit.
TAYLOR_STEPS = tuple(2.0 ** -k for k in range(4, 12))
ROUNDOFF = 1e-11
# The Taylor test contradicts a gradient along v when its remainder falls as h (slope below LINEAR) where the
# reference's falls as h² (slope above QUADRATIC) or is at rounding: such a gradient is never excused at a kink.
LINEAR, QUADRATIC = 1.3, 1.7


def _probe(F, F0, scale, h=FD_STEP):
    """(central difference, smooth, at a kink, left slope, right slope) of F(t) along its direction at t = 0."""
    Fh, Fmh, Fh2, Fmh2 = F(h), F(-h), F(h / 2), F(-h / 2)
    fd, fd_half = (Fh - Fmh) / (2 * h), (Fh2 - Fmh2) / h
    right = 2 * (Fh2 - F0) / (h / 2) - (Fh - F0) / h  # each one-sided slope, its curvature term cancelled
    left = 2 * (F0 - Fmh2) / (h / 2) - (F0 - Fmh) / h
    noise = KINK_NOISE * scale
    at_kink = not abs(right - left) <= noise  # nan counts as a kink: it witnesses nothing
    smooth = not at_kink and abs(fd - fd_half) <= noise
    return fd, smooth, at_kink, left, right


class Witness:
    """Finite differences of F around `point`: F(point) -> float, point: {name: float64 array}.

    entries: how many single entries per name to check besides the random direction (0 or more).
    taylor: whether to measure the Taylor remainders of the reference and the candidate along the direction.
    """

    def __init__(self, F, point, *, entries=1, taylor=True):
        self.F, self.entries, self.taylor = F, entries, taylor
        self.point = {k: np.asarray(v, np.float64) for k, v in point.items()}
        self.F0 = F(self.point)

    def along(self, name, v):
        """F(h) = F at the point moved by h v in the parameter `name`."""
        return lambda h: self.F({**self.point, name: self.point[name] + h * v})

    def crosses_kink(self, name, v, scale):
        """Whether the segment θ ± FD_STEP v, moving the parameter `name`, crosses a kink (or a step) of F."""
        return not _probe(self.along(name, v), self.F0, scale)[1]

    def scale(self, reference, name):
        return float(np.linalg.norm(np.asarray(reference[name], np.float64)) + abs(self.F0))

    def check(self, reference, candidate, rng):
        """{name: {"checks": [{"fd", "along"}], "scale", "kink": the direction crosses one, "F0", "remainders"}}.

        reference, candidate: {name: array} (the candidate's may be None or lack names).
        """
        result = {}
        for name, x in self.point.items():
            g_ref = np.asarray(reference[name], np.float64)
            scale = self.scale(reference, name)
            v = rng.standard_normal(x.shape)
            v /= np.linalg.norm(v) or 1.0
            directions = [v]
            for flat in rng.choice(x.size, min(self.entries, x.size), replace=False) if self.entries else ():
                directions.append(np.zeros(x.shape))
                directions[-1].flat[flat] = 1.0
            checks, kinks = [], []
            # A reference that is not finite must not make every direction look rough: it fails the check instead.
            kink_scale = scale if np.isfinite(scale) else abs(self.F0)
            for direction in directions:
                fd, smooth, _, _, _ = _probe(self.along(name, direction), self.F0, kink_scale)
                kinks.append(not smooth)
                if smooth:
                    checks.append({"fd": fd, "along": float(np.vdot(g_ref, direction))})
            remainders = {}
            if self.taylor:
                F = self.along(name, v)
                for who, g in (("reference", reference), ("candidate", candidate)):
                    if g is not None and name in g and np.shape(g[name]) == x.shape:
                        slope = float(np.vdot(np.asarray(g[name], np.float64), v))
                        remainders[who] = [abs(F(h) - self.F0 - h * slope) for h in TAYLOR_STEPS]
            result[name] = {"checks": checks, "scale": scale, "kink": kinks[0], "F0": self.F0,
                            "remainders": remainders}
        return result

    def kinks(self, probes):
        """{name: {"excused": flat indices, "probed": how many, "exhausted": MAX_PROBES reached undecided}}.

        probes: name -> {"order": flat indices, largest difference first, "gaps": |candidate − reference| there,
        "candidate": the candidate's values there, "bound": the tolerance on ‖candidate − reference‖,
        "rtol", "atol", "scale": ‖reference‖ + |F|}. Entries are probed until those left unprobed cannot
        change the verdict either way.
        """
        result = {}
        for name, p in probes.items():
            gaps = np.asarray(p["gaps"], np.float64)
            kept2, left2, excused, probed = 0.0, float(np.sum(gaps ** 2)), [], 0

            def decided():
                return np.sqrt(kept2 + left2) <= p["bound"] or np.sqrt(kept2) > p["bound"]

            for j, gap, value in zip(p["order"], gaps, p["candidate"]):
                if decided() or probed == MAX_PROBES:
                    break
                probed += 1
                left2 = max(left2 - gap ** 2, 0.0)
                if self._excused(name, int(j), float(value), p):
                    excused.append(int(j))
                else:
                    kept2 += gap ** 2
            result[name] = {"excused": np.array(excused, np.int64), "probed": probed, "exhausted": not decided()}
        return result

    def _excused(self, name, j, value, p):
        """Whether entry j sits on a kink, and the candidate's value there lies between the one-sided slopes."""
        e = np.zeros(self.point[name].shape)
        e.flat[j] = 1.0
        _, _, at_kink, left, right = _probe(self.along(name, e), self.F0, p["scale"])
        if not at_kink or not np.isfinite(left + right):
            return False  # smooth there: the derivative is no convention
        margin = KINK_NOISE * p["scale"] + p["rtol"] * (abs(left) + abs(right)) + p["atol"]
        return min(left, right) - margin <= value <= max(left, right) + margin


def verdict(checked):
    """(ok, worst error as a fraction of ‖g‖ + |F|) over a `Witness.check` result; (None, None) where no
    direction could be checked. A nan (a reference that is nan) is never ok."""
    errors = [abs(c["fd"] - c["along"]) / (w["scale"] or 1.0) for w in checked.values() for c in w["checks"]]
    if not errors:
        return None, None
    worst = float(np.max(errors))
    return bool(worst <= FD_RTOL), worst


def taylor_slope(remainders, F0, scale):
    """The slope of log remainder against log h, over the steps where the remainder is above rounding;
    None where it never is (the function is linear there and the gradient exact, or nearly)."""
    h = np.array(TAYLOR_STEPS)
    r = np.array(remainders)
    keep = r > ROUNDOFF * max(abs(F0), scale, 1e-300)
    if keep.sum() < 3:
        return None
    return float(np.polyfit(np.log(h[keep]), np.log(r[keep]), 1)[0])


def taylor_slopes(checked):
    """{name: {"candidate": slope, "reference": slope}} along the directions free of kinks."""
    return {n: {who: taylor_slope(r, w["F0"], w["scale"]) for who, r in w["remainders"].items()}
            for n, w in checked.items() if not w["kink"] and w["remainders"]}


def contradicted(slopes):
    """Whether the Taylor test says the candidate is not the gradient, where the reference is."""
    candidate, reference = slopes.get("candidate"), slopes.get("reference")
    return candidate is not None and candidate < LINEAR and (reference is None or reference > QUADRATIC)
