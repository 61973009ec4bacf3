"""The seed model's diagnoses, reached only through the seed problem: what its network knows that a user's
model does not. The penalty is λ‖W‖² (2λW, biases unregularised); shapes are named in the widths' symbols;
known slips of δ (diagnose/slips.py), an ignored activation argument, an error only at relu kinks, only with
one activation, only with large logits, only with λ > 0; and the chain rule's walk down the layers.
"""

import re

import numpy as np

from jax_reference.tolerances import tolerance
from manual_grad.activations import KINKED
from manual_grad.validate import width_names

from . import slips
from .laws import Diagnosis, Model, close, fitted_law, matches, only_when, scaled

_SHAPES = re.compile(r"shapes? ((?:\(\d+,\s*\d+\)\s*)+)")
# Said once, as the hint, where parameters fail only with large logits: the cause, rather than the chain rule.
OVERFLOW = ("the softmax overflows where the logits are large (near 1000 in float64, 100 in float32): subtract each "
            "row's maximum from the logits before exp, which leaves the softmax as it is")
# φ' of each activation, written through a = φ(z) where it helps.
PRIME = {"sigmoid": "{a} (1 − {a})", "tanh": "1 − {a}²", "relu": "1 where {z} > 0, else 0",
         "leaky_relu": "1 where {z} >= 0, else 0.01", "softplus": "1 − e^−{a}, the sigmoid of {z}"}
# The derivative at the kink, as the JAX function the reference uses takes it.
KINK_WORDS = {"relu": "jax.nn.relu takes φ'(0) = 0, so use {z} > 0, not {z} >= 0",
              "leaky_relu": "jax.nn.leaky_relu takes φ'(0) = 1, so use {z} >= 0, not {z} > 0"}


def expected_shape(name, case):
    """(the shape in symbols, e.g. "(H, K)", the sizes in this case) of a parameter W_l, b_l or stage delta_l."""
    names = width_names(case.L)
    l = int(re.sub(r"\D", "", name))
    if name.startswith("W"):
        symbols, sizes = (names[l - 1], names[l]), (case.widths[l - 1], case.widths[l])
    elif name.startswith("b"):
        symbols, sizes = (names[l],), (case.widths[l],)
    else:  # δ_l = ∂J/∂z_l, z_l of width widths[l − 1]
        symbols, sizes = ("N", names[l - 1]), (case.N, case.widths[l - 1])
    return "(" + ", ".join(symbols) + ("," if len(symbols) == 1 else "") + ")", sizes


def penalty_law_words(name, ps, cases, symbol, expected, wrong):
    """Words for a penalty term p·(symbol) in each case, or None where p is right (2 for weights, 0 for biases):
    the seed model's gradient (2λW) and its Hessian-vector product (2λV) alike. expected: the right term, in
    words; wrong: words with {} for the term found."""
    is_bias = name.startswith("b")
    if all(close(p, 0.0 if is_bias else 2.0, 1e-2) for p in ps):
        return None
    found = fitted_law(ps, cases)
    if found is None:
        return (f"wrong only when λ > 0: the error is a multiple of {symbol} whose coefficient varies from case to "
                f"case ({min(ps):.3g} to {max(ps):.3g}) and follows no law in N and K")
    alpha, rule = found
    if is_bias:
        return f"regularises the bias (adds {scaled(alpha, rule, symbol)}): biases are not regularised"
    if rule == "" and close(alpha, 0, 1e-2):
        return f"{expected} is missing"
    words = wrong.format(scaled(alpha, rule, symbol))
    if rule == "1/N":
        words += ": the penalty is added to J~ once, not averaged over the examples"
    elif rule == "N":
        words += ": the penalty is added to J~ once, not once per example"
    return words


class SeedModel(Model):
    """The seed network of `depth` weight layers."""

    mixes_penalty = False

    def __init__(self, depth):
        self.depth = depth

    def penalty_direction(self, r, name):
        """λθ, where λ > 0: the seed model's penalty λ‖θ‖² (biases have none, which a wrong one shows)."""
        return r.case.lam * np.asarray(r.arrays["params"][name], np.float64) if r.case.lam > 0 else None

    def penalty_words(self, name, ps, cases):
        """Words for a penalty gradient p λθ in each case, or None where p is right (2 for weights, 0 for biases)."""
        return penalty_law_words(name, ps, cases, f"λ{name}", f"the penalty gradient 2λ{name}",
                                 f"penalty gradient is {{}}, expected 2λ{name} (the derivative of λ‖{name}‖²)")

    def multiple_words(self, name, multiples, cases):
        return None  # the seed model's parameters are never 0-d

    def expected_shape(self, name, r):
        return expected_shape(name, r.case)

    def swap_note(self, name, other, case):
        off_by_one = case.L > 2 and name[0] == other[0] and abs(int(name[1:]) - int(other[1:])) == 1
        return " (a layer index off by one?)" if off_by_one else ""

    def not_finite(self, failing, where):
        if all(f.case.large_logits for f in failing):
            return Diagnosis(f"not finite where the reference is, only in cases with large logits: {where}. exp(z3) "
                             "overflows there: subtract each row's maximum from z3 before exp (softmax is unchanged "
                             "by the shift)", "overflow", OVERFLOW)
        return None

    def value_words(self, name, failing, results, dtype, kind, candidate_of):
        """A known slip, an ignored activation, or what sets the failing cases apart; None where nothing does."""
        rtol = tolerance(dtype).rtol
        if kind != "stages":
            for family in (slips.top_slips, slips.layer_slips):
                matched = None
                for r in failing:
                    hits = {words for words, slip in family(r).items() if matches(candidate_of(r), slip[name], rtol)}
                    matched = hits if matched is None else matched & hits
                if matched:
                    return Diagnosis(f"matches {sorted(matched)[0]}", "slip")

            def same_as(r, activation):
                return matches(candidate_of(r), slips.one_activation(r)[activation][name], rtol)

            for activation in PRIME:
                if all(set(r.case.activations) != {activation} and same_as(r, activation) for r in failing) and \
                        all(r.parameters[name].ok for r in results if set(r.case.activations) == {activation}):
                    return Diagnosis(f"matches the {activation} network whatever the activation", "ignored activation",
                                     f"the activation argument looks ignored: the candidate computes the {activation} "
                                     "network for every activation")

        def ok(r):
            return getattr(r, kind)[name].ok

        two_layers = results[0].case.L == 2
        z, a = ("z2", "a2") if two_layers else ("z", "a")
        if only_when(failing, results, ok, lambda r: r.case.kinks) == [True]:
            kinked = sorted({act for r in failing for act in r.case.activations if act in KINKED})
            return Diagnosis(f"wrong only where {z} has exact zeros ({' and '.join(kinked)} kinks): "
                             + "; ".join(KINK_WORDS[act].format(z=z) for act in kinked), "kinks")
        # The activations seen only where the parameter is wrong, when every failing case has one of them.
        bad = {act for r in failing for act in r.case.activations} - \
            {act for r in results if ok(r) for act in r.case.activations}
        if bad and all(bad & set(r.case.activations) for r in failing):
            bad = [act for act in PRIME if act in bad]
            where = f"activation {' and '.join(bad)}" if two_layers else f"networks with a {' or '.join(bad)} layer"
            return Diagnosis(f"wrong only with {where}: check its derivative φ'({z}) ("
                             + "; ".join(f"{act}: {PRIME[act].format(a=a, z=z)}" for act in bad) + ")", "activation")
        if only_when(failing, results, ok, lambda r: r.case.large_logits) == [True]:
            return Diagnosis("wrong only with large logits: look at how the softmax is computed", "large logits",
                             OVERFLOW)
        bad = only_when(failing, results, ok, lambda r: r.case.lam > 0)
        if bad:
            return Diagnosis("wrong only when λ > 0: look at the regularisation term" if bad == [True]
                             else "wrong only when λ = 0", "lambda")
        return None

    def data_cases(self, results):
        """The chain-rule hint is about the data term: judged by the λ = 0 cases where there are some."""
        return [r for r in results if r.case.lam == 0] or results

    def locate(self, message, case):
        """A broadcast error's 2-D shapes in the case's symbols, so that a learner sees which layers met:
        '(28,2) (28,18)' of widths 9-15-10-2-18 is (N, H4) and (N, K), the widths of z4 and z5."""
        found = _SHAPES.search(message)
        if not found:
            return message
        names = width_names(case.L)
        where = {w: (names[j], "X" if j == 0 else f"z{j + 1}") for j, w in enumerate(case.widths)}
        terms = []
        for rows, cols in re.findall(r"\((\d+),\s*(\d+)\)", found.group(1)):
            if int(cols) not in where:
                return message
            symbol, owner = where[int(cols)]
            terms.append(f"({'N' if int(rows) == case.N else rows}, {symbol}) of {owner}")
        return f"{message}; in this case's terms {' met '.join(terms)}"

    def hint(self, wrong, wrong_in_data):
        if any(d.kind in _NO_CHAIN_RULE for d in wrong.values()):
            return None  # no chain rule to walk in what came back malformed
        return chain_rule_hint(set(wrong_in_data), self.depth)


# Failures the chain rule cannot locate: they are about what came back, not about its values.
_NO_CHAIN_RULE = {"no result", "missing", "not an array", "dtype", "swapped", "ignored activation",
                  "reference not finite", "reference untrusted", "kinks unjudged", "no entry judged"}


def _listed(names):
    return " and ".join(names) if len(names) == 2 else ", ".join(names)


def chain_rule_hint(wrong, L):
    """Where to look, from which parameters are wrong: δ_{l+1} is right when W_l and b_l agree, and the
    recursion δ_l = (δ_{l+1} W_lᵀ) ⊙ φ'(z_l) walks down from the softmax."""
    if not wrong:
        return None
    if len(wrong) == 2 * L:
        return f"every parameter is wrong: start with δ{L + 1} = ∂J/∂z{L + 1} = (a{L + 1} − Δ)/N, which all of them share"
    m = max(int(name[1:]) for name in wrong)  # the highest layer with a wrong parameter
    above = [f"{kind}{l}" for l in range(m + 1, L + 1) for kind in "Wb"]
    a_m = "X" if m == 1 else f"a{m}"
    if wrong == {f"W{m}"}:
        return f"b{m} agrees, so δ{m + 1} is right: look at ∂J/∂W{m} = {a_m}ᵀ δ{m + 1} (and its penalty 2λW{m})"
    if wrong == {f"b{m}"}:
        return f"W{m} agrees, so δ{m + 1} is right: look at ∂J/∂b{m} = Σ_i δ{m + 1}[i, :]"
    if {f"W{m}", f"b{m}"} <= wrong and above:
        return (f"{_listed(above)} agree, so δ{m + 2} is right: look at δ{m + 1} = (δ{m + 2} W{m + 1}ᵀ) ⊙ "
                f"φ'(z{m + 1})")
    return None


