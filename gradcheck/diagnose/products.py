"""Diagnoses of a Hessian- or Gauss-Newton-vector product of the seed model (problems/seed_products.py): the
penalty's term 2λV missing or off by a factor, and the product the candidate computes instead (the Gauss-Newton
product where the Hessian's was asked: the φ'' and δ terms missing; the Hessian's where the Gauss-Newton
product was asked).
"""

from jax_reference.tolerances import tolerance

from .laws import Diagnosis, Model, close, fitted_law, matches, scaled
from .seed import PRIME, expected_shape

# φ'' of each activation, through a = φ(z).
SECOND = {"sigmoid": "a (1 − a)(1 − 2a)", "tanh": "−2a (1 − a²)", "relu": "0", "leaky_relu": "0",
          "softplus": "(1 − e^−a) e^−a"}

OTHER = {"hvp": ("gnvp", "the Gauss-Newton product J_zᵀ H_z J_z v: the network's own curvature is missing (the "
                         "φ''(z) term, and the terms in δ: R{a}ᵀ δ and δ Vᵀ)"),
         "gnvp": ("hvp", "the full Hessian-vector product: the Gauss-Newton product keeps only the loss's "
                         "curvature in the logits, without the φ'' and δ terms")}


class ProductModel(Model):
    """The seed network's products along a direction v = {V_l, c_l}, of `depth` weight layers."""

    mixes_penalty = False

    def __init__(self, depth, product):
        self.depth, self.product = depth, product

    def penalty_direction(self, r, name):
        """λV, where λ > 0: the penalty λ‖W‖²'s Hessian times v is 2λV (the biases have none)."""
        return r.case.lam * r.arrays["direction"][name] if r.case.lam > 0 else None

    def penalty_words(self, name, ps, cases):
        is_bias = name.startswith("b")
        if all(close(p, 0.0 if is_bias else 2.0, 1e-2) for p in ps):
            return None
        symbol = f"λV_{name}"
        found = fitted_law(ps, cases)
        if found is None:
            return (f"wrong only when λ > 0: the error is a multiple of λ times v's {name} whose coefficient varies "
                    f"from case to case ({min(ps):.3g} to {max(ps):.3g})")
        alpha, rule = found
        if is_bias:
            return f"regularises the bias (adds {scaled(alpha, rule, symbol)}): biases are not regularised"
        if rule == "" and close(alpha, 0, 1e-2):
            return f"the penalty's term 2λV is missing (the Hessian of λ‖{name}‖² is 2λI, times v)"
        return (f"the penalty's term is {scaled(alpha, rule, symbol)}, expected 2λV (the Hessian of λ‖{name}‖² is "
                "2λI, times v)")

    def multiple_words(self, name, multiples, cases):
        return None

    def expected_shape(self, name, r):
        return expected_shape(name, r.case)

    def value_words(self, name, failing, results, dtype, kind, candidate_of):
        other, words = OTHER[self.product]
        rtol = tolerance(dtype).rtol
        if all(matches(candidate_of(r), r.arrays[other][name], rtol) for r in failing):
            return Diagnosis(f"matches {words}", "slip")
        # The activations seen only where the product is wrong, when every failing case has one of them: their
        # φ'' (relu's is 0, so a missing φ'' term leaves relu networks right).
        bad = {act for r in failing for act in r.case.activations} - \
            {act for r in results if r.parameters[name].ok for act in r.case.activations}
        if bad and all(bad & set(r.case.activations) for r in failing):
            bad = [act for act in PRIME if act in bad]
            return Diagnosis(f"wrong only with {' and '.join(bad)}, right where φ'' is 0 (relu): check the φ''(z) "
                             "term of R{δ}, (δ Wᵀ) ⊙ φ''(z) ⊙ R{z} (" + "; ".join(f"{act}: φ'' = {SECOND[act]}"
                                                                           for act in bad) + ")", "activation")
        return None
