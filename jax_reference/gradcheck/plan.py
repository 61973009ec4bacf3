"""Which cases a sweep runs, and what they cover.

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

from jax_reference.cases import LABEL_SETS, make_case

MAX_DIM = 32
# Logits shifted up to this: exp overflows past 709.8 in float64 and 88.7 in float32,
# while the max-shifted softmax, and the reference, stay exact.
LARGE_LOGIT = {np.dtype(np.float64): 1000.0, np.dtype(np.float32): 100.0}
# The spread of a large-logit case's logits before the shift, so that a3 stays far from one-hot.
LARGE_SPREAD = 30.0


@dataclass(frozen=True)
class Case:
    """One random problem, rebuilt from (seed, index) alone."""

    index: int
    N: int
    D: int
    H: int
    K: int
    lam: float
    activation: str
    labels: str
    kinks: bool  # relu only: exact zeros in z2, where φ'(0) = 0 by convention
    large_logits: bool  # every logit near LARGE_LOGIT[dtype]
    seed: int

    def build(self, dtype):
        dtype = np.dtype(dtype)
        rng = np.random.default_rng([self.seed, self.index])
        params, X, y = make_case(rng, self.N, self.D, self.H, self.K, label_set=self.labels)
        if self.kinks:
            params["W1"][:, 0] = 0  # z2[:, 0] = b1[0] = 0 for every row
            params["b1"][0] = 0
        if self.large_logits:
            shift_logits(params, X, self.activation, LARGE_LOGIT[dtype])
        return {k: v.astype(dtype) for k, v in params.items()}, X.astype(dtype), y

    def describe(self):
        extras = ", z2 with exact zeros" * self.kinks + ", large logits" * self.large_logits
        return (f"case {self.index} (N={self.N}, D={self.D}, H={self.H}, K={self.K}, "
                f"lam={self.lam:.3g}, {self.activation}, labels {self.labels}{extras})")


def shift_logits(params, X, activation, top):
    """Scales W2 and b2 so that the logits spread over at most LARGE_SPREAD, then adds the same
    constant to every class (which leaves the softmax as it was) so that the largest logit is `top`."""
    from manual_grad.activations import TABLE

    z3 = TABLE[activation][0](X @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]
    spread = float(np.ptp(z3))
    if spread > LARGE_SPREAD:
        params["W2"] *= LARGE_SPREAD / spread
        params["b2"] *= LARGE_SPREAD / spread
        z3 = z3 * (LARGE_SPREAD / spread)
    params["b2"] += top - z3.max()


def activations_arg(activations):
    """An activation name, or several, as a tuple without repeats; ValueError names the argument."""
    activations = (activations,) if isinstance(activations, str) else tuple(activations)
    unknown = [a for a in activations if a not in mg.ACTIVATIONS]
    if unknown or not activations:
        raise ValueError(f"activations must be one of {mg.ACTIVATIONS}, or a non-empty list of them; "
                         f"got {list(activations)}")
    return tuple(dict.fromkeys(activations))


def lams_arg(lams):
    """None, or a λ value or several as a list of floats; ValueError names the argument."""
    if lams is None:
        return None
    lams = [lams] if isinstance(lams, numbers.Real) or not isinstance(lams, Iterable) else list(lams)
    if not lams:
        raise ValueError("lams must be a λ >= 0, a non-empty list of them, or None; got an empty list")
    return [mg.validate.check_lam(lam) for lam in lams]


def requirements(activations, lams):
    """What the first cases must cover, in words, for these activations and λ options."""
    needs = [f"activation {a}" for a in activations]
    needs += ["λ = 0", "λ > 0"] if lams is None else [f"λ = {lam:g}" for lam in dict.fromkeys(lams)]
    if "relu" in activations:
        needs.append("relu with exact zeros in z2")
    return needs + ["labels all of one class", "large logits"]


def covers(case):
    """What `case` covers, in the words of `requirements`."""
    covered = {f"activation {case.activation}", f"λ = {case.lam:g}", "λ = 0" if case.lam == 0 else "λ > 0"}
    if case.kinks:
        covered.add("relu with exact zeros in z2")
    if case.labels == "one_class":
        covered.add("labels all of one class")
    if case.large_logits:
        covered.add("large logits")
    return covered


def not_covered(cases, activations, lams):
    """The requirements that `cases` leave uncovered, in order."""
    covered = set().union(*(covers(c) for c in cases))
    return [need for need in requirements(activations, lams) if need not in covered]


def _prefix(activations, lam_options):
    """(activation, λ option, special) for the first cases, so that they cover every requirement.

    The specials (relu kinks, one-class labels, large logits) go to different
    cases: one-class labels with saturated logits could hide a wrong δ3.
    """
    specials = ["one_class", "large"]
    if "relu" in activations:
        specials.insert(0, "kinks")
    n = max(len(activations), len(lam_options), len(specials))
    plan = [[activations[j % len(activations)], lam_options[j % len(lam_options)], None] for j in range(n)]
    if "relu" in activations:
        plan[activations.index("relu")][2] = specials.pop(0)
    free = (row for row in plan if row[2] is None)
    for special, row in zip(specials, free):
        row[2] = special
    return plan


def cases_to_cover(activations, lams):
    """How many cases it takes to cover every requirement."""
    return len(_prefix(tuple(activations), ["zero", "positive"] if lams is None else list(lams)))


def draw_cases(n, seed, activations, lams=None):
    """n cases of distinct shapes with D, H, K distinct: first those that cover the requirements, then random ones.

    lams: the λ values to use; None alternates 0 with λ drawn log-uniformly
    from [1e-3, 10], so each activation meets λ = 0 and λ > 0.
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
        D, H, K = (int(d) for d in rng.choice(np.arange(1, MAX_DIM + 1), 3, replace=False))
        if (N, D, H, K) in seen:
            continue
        seen.add((N, D, H, K))
        i = len(cases)
        if i < len(prefix):
            activation, option, special = prefix[i]
            labels = "one_class" if special == "one_class" else "random"
        else:
            activation = activations[i % len(activations)]
            turn = i // len(activations)
            option = lam_options[turn % len(lam_options)]
            labels = LABEL_SETS[turn % len(LABEL_SETS)]
            special = "kinks" if activation == "relu" and (turn // 2) % 2 == 1 else "large" if turn % 5 == 4 else None
        cases.append(Case(i, N, D, H, K, lam(option), activation, labels, special == "kinks",
                          special == "large" and labels != "one_class", seed))
    return cases
