"""Which cases the seed model's sweep runs, and what they cover.

The first cases of every sweep cover, between them, what a derivation most
often gets wrong somewhere: every activation asked for, λ = 0 and λ > 0 (or
each λ asked for), relu with exact zeros in z2, labels all of one class, and
logits large enough to overflow a softmax that is not shifted by its row
maximum. The rest are random. Every case has its own shape, with D, H and K
distinct, so that a transposed matrix cannot pass.
"""

import numbers
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

import manual_grad as mg
from manual_grad.activations import KINKED
from manual_grad.deep import forward

from jax_reference.cases import LABEL_SETS, make_case

MAX_DIM = 32
# Depths whose widths can all differ within 1..MAX_DIM.
MAX_DEPTH = MAX_DIM - 1
# The seed's activations, checked unless others are asked for.
DEFAULT_ACTIVATIONS = ("sigmoid", "tanh", "relu")
# Logits shifted up to this: exp overflows past 709.8 in float64 and 88.7 in float32,
# while the max-shifted softmax, and the reference, stay exact.
LARGE_LOGIT = {np.dtype(np.float64): 1000.0, np.dtype(np.float32): 100.0}
# The spread of a large-logit case's logits before the shift, so that a3 stays far from one-hot.
LARGE_SPREAD = 30.0


@dataclass(frozen=True)
class Case:
    """One random problem, rebuilt from (seed, index) alone: a network of widths (D, H2, …, HL, K)."""

    index: int
    N: int
    widths: tuple
    lam: float
    activations: tuple  # one per hidden layer
    labels: str
    kinks: bool  # exact zeros in z of each relu or leaky_relu layer, where φ'(0) is a convention
    large_logits: bool  # every logit near LARGE_LOGIT[dtype]
    seed: int

    @property
    def L(self):
        return len(self.widths) - 1

    @property
    def D(self):
        return self.widths[0]

    @property
    def H(self):
        return self.widths[1]

    @property
    def K(self):
        return self.widths[-1]

    @property
    def dims(self):
        """The sizes a coefficient's law may follow (diagnose.LAWS)."""
        return {"N": self.N, "K": self.K}

    @property
    def activation(self):
        """What the candidate is given: one name when every hidden layer has it, else one per layer."""
        return self.activations[0] if len(set(self.activations)) == 1 else self.activations

    def build(self, dtype):
        dtype = np.dtype(dtype)
        rng = np.random.default_rng([self.seed, self.index])
        params, X, y = make_case(rng, self.N, self.D, self.widths[1:-1], self.K, label_set=self.labels)
        if self.kinks:
            for l, activation in enumerate(self.activations, start=2):
                if activation in KINKED:
                    params[f"W{l - 1}"][:, 0] = 0  # z_l[:, 0] = b_{l-1}[0] = 0 for every row
                    params[f"b{l - 1}"][0] = 0
        if self.large_logits:
            shift_logits(params, X, self.activations, LARGE_LOGIT[dtype])
        return {k: v.astype(dtype) for k, v in params.items()}, X.astype(dtype), y

    def describe(self):
        extras = f", z{2 if self.L == 2 else ''} with exact zeros" * self.kinks + ", large logits" * self.large_logits
        if self.L == 2:
            shape, activations = f"D={self.D}, H={self.H}, K={self.K}", self.activations[0]
        else:
            shape, activations = f"widths {'-'.join(map(str, self.widths))}", "/".join(self.activations)
        return f"case {self.index} (N={self.N}, {shape}, lam={self.lam:.3g}, {activations}, labels {self.labels}{extras})"

    def columns(self):
        """(title, text, sort key, numeric) for the report page's table of cases."""
        shapes = self.describe().split(" (", 1)[-1].rstrip(")")
        activations = "/".join(self.activations)
        return [("case", self.index, self.index, True), ("N", self.N, self.N, True), ("shapes", shapes, shapes, False),
                ("λ", f"{self.lam:.3g}", self.lam, True), ("activations", activations, activations, False)]

    def to_json(self):
        fields = {**vars(self), "widths": list(self.widths), "activations": list(self.activations)}
        if self.L == 2:
            fields.update(D=self.D, H=self.H, K=self.K, activation=self.activations[0])
        return fields


def shift_logits(params, X, activations, top):
    """Scales the last layer so that the logits spread over at most LARGE_SPREAD, then adds the same
    constant to every class (which leaves the softmax as it was) so that the largest logit is `top`."""
    L = len(params) // 2
    activations = (activations,) * (L - 1) if isinstance(activations, str) else tuple(activations)
    z = forward(params, X, activations)[1]
    spread = float(np.ptp(z))
    if spread > LARGE_SPREAD:
        params[f"W{L}"] *= LARGE_SPREAD / spread
        params[f"b{L}"] *= LARGE_SPREAD / spread
        z = z * (LARGE_SPREAD / spread)
    params[f"b{L}"] += top - z.max()


def activations_arg(activations):
    """An activation name, or several, as a tuple without repeats; ValueError names the argument."""
    activations = (activations,) if isinstance(activations, str) else tuple(activations)
    unknown = [a for a in activations if a not in mg.ACTIVATIONS]
    if unknown or not activations:
        raise ValueError(f"activations must be one of {mg.ACTIVATIONS}, or a non-empty list of them; "
                         f"got {list(activations)}")
    return tuple(dict.fromkeys(activations))


def depth_arg(depth):
    """L, the number of weight layers, an integer from 2 to MAX_DEPTH; ValueError names the argument."""
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral) or not 2 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be an integer from 2 to {MAX_DEPTH} (weight layers); got {depth!r}")
    return int(depth)


def lams_arg(lams):
    """None, or a λ value or several as a list of floats; ValueError names the argument."""
    if lams is None:
        return None
    lams = [lams] if isinstance(lams, numbers.Real) or not isinstance(lams, Iterable) else list(lams)
    if not lams:
        raise ValueError("lams must be a λ >= 0, a non-empty list of them, or None; got an empty list")
    return [mg.validate.check_lam(lam) for lam in lams]


def _kink_words(activation, L):
    return f"{activation} with exact zeros in z{2 if L == 2 else ''}"


def requirements(activations, lams, L=2):
    """What the first cases must cover, in words, for these activations, λ options and depth."""
    needs = [f"activation {a}" for a in activations]
    needs += ["λ = 0", "λ > 0"] if lams is None else [f"λ = {lam:g}" for lam in dict.fromkeys(lams)]
    needs += [_kink_words(a, L) for a in activations if a in KINKED]
    return needs + ["labels all of one class", "large logits"]


def covers(case):
    """What `case` covers, in the words of `requirements`."""
    covered = {f"activation {a}" for a in case.activations}
    covered |= {f"λ = {case.lam:g}", "λ = 0" if case.lam == 0 else "λ > 0"}
    if case.kinks:
        covered |= {_kink_words(a, case.L) for a in case.activations if a in KINKED}
    if case.labels == "one_class":
        covered.add("labels all of one class")
    if case.large_logits:
        covered.add("large logits")
    return covered


def not_covered(cases, activations, lams, L=2):
    """The requirements that `cases` leave uncovered, in order."""
    covered = set().union(*(covers(c) for c in cases))
    return [need for need in requirements(activations, lams, L) if need not in covered]


def _prefix(activations, lam_options):
    """(activation, λ option, special) for the first cases, so that they cover every requirement.

    Each kinked activation gets a case of its own with exact zeros at its
    kink; the other specials (one-class labels, large logits) go to different
    cases: one-class labels with saturated logits could hide a wrong δ.
    """
    kinked = [a for a in activations if a in KINKED]
    specials = [*(("kinks", a) for a in kinked), ("one_class", None), ("large", None)]
    n = max(len(activations), len(lam_options), len(specials))
    plan = [[activations[j % len(activations)], lam_options[j % len(lam_options)], None] for j in range(n)]
    for special, activation in specials[:len(kinked)]:
        row = next(r for r in plan if r[0] == activation and r[2] is None)
        row[2] = special
    free = (row for row in plan if row[2] is None)
    for (special, _), row in zip(specials[len(kinked):], free):
        row[2] = special
    return plan


def cases_to_cover(activations, lams):
    """How many cases it takes to cover every requirement."""
    return len(_prefix(tuple(activations), ["zero", "positive"] if lams is None else list(lams)))


def draw_cases(n, seed, activations, lams=None, depth=2):
    """n cases of distinct shapes with every width distinct: first those that cover the requirements,
    then random ones.

    lams: the λ values to use; None alternates 0 with λ drawn log-uniformly
    from [1e-3, 10], so each activation meets λ = 0 and λ > 0.
    depth: L, the number of weight layers; deeper networks draw a random mix
    of the activations, one per hidden layer, after the first cases (which
    give every hidden layer the same one).
    """
    activations = tuple(activations)
    rng = np.random.default_rng(seed)
    lam_options = ["zero", "positive"] if lams is None else list(lams)

    def lam(option):
        if option == "zero":
            return 0.0
        return float(10 ** rng.uniform(-3, 1)) if option == "positive" else float(option)

    prefix = _prefix(activations, lam_options)
    seen, cases = set(), []
    while len(cases) < n:
        N = int(rng.integers(1, MAX_DIM + 1))
        widths = tuple(int(d) for d in rng.choice(np.arange(1, MAX_DIM + 1), depth + 1, replace=False))
        if (N, widths) in seen:
            continue
        seen.add((N, widths))
        i = len(cases)
        if i < len(prefix):
            activation, option, special = prefix[i]
            labels = "one_class" if special == "one_class" else "random"
            hidden = (activation,) * (depth - 1)
        else:
            activation = activations[i % len(activations)]
            turn = i // len(activations)
            option = lam_options[turn % len(lam_options)]
            labels = LABEL_SETS[turn % len(LABEL_SETS)]
            hidden = (activation,) if depth == 2 else tuple(str(a) for a in rng.choice(activations, depth - 1))
            kinked = any(a in KINKED for a in hidden)
            special = "kinks" if kinked and (turn // 2) % 2 == 1 else "large" if turn % 5 == 4 else None
        cases.append(Case(i, N, widths, lam(option), hidden, labels, special == "kinks",
                          special == "large" and labels != "one_class", seed))
    return cases
