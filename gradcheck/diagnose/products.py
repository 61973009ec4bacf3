"""Diagnoses of a Hessian- or Gauss-Newton-vector product of the seed model (problems/seed_products.py): the
penalty's term 2λV missing or off by a factor, and the product the candidate computes instead (the Gauss-Newton
product where the Hessian's was asked: the φ'' and δ terms missing; the Hessian's where the Gauss-Newton
product was asked).
"""

import numpy as np

import jax_reference as jr
from jax_reference.tolerances import tolerance
from manual_grad.activations import SECOND as SECOND_OF, TABLE, log_softmax
from manual_grad.deep import forward

from .laws import Diagnosis, Model, matches
from .seed import PRIME, expected_shape, penalty_law_words

# φ'' of each activation, through a = φ(z).
SECOND = {"sigmoid": "a (1 − a)(1 − 2a)", "tanh": "−2a (1 − a²)", "relu": "0", "leaky_relu": "0",
          "softplus": "(1 − e^−a) e^−a"}

OTHER = {"hvp": ("gnvp", "the Gauss-Newton product J_zᵀ H_z J_z v: the network's own curvature is missing (the "
                         "φ''(z) term, and the terms in δ: R{a}ᵀ δ and δ Vᵀ)"),
         "gnvp": ("hvp", "the full Hessian-vector product: the Gauss-Newton product keeps only the loss's "
                         "curvature in the logits, without the φ'' and δ terms")}


def other_product(r, product):
    """The case's other product ("hvp" or "gnvp") along its direction, from autodiff, in float64; computed for a
    failing case only, once (kept in its arrays for the other parameters' diagnoses)."""
    if product not in r.arrays:
        params = r.arrays["params"]
        v = {k: d.astype(params[k].dtype) for k, d in r.arrays["direction"].items()}  # as the candidate got it
        found = getattr(jr, product)(params, v, r.arrays["X"], r.arrays["y"], r.case.lam, r.case.activation)
        r.arrays[product] = {k: np.asarray(g, np.float64) for k, g in found.items()}
    return r.arrays[product]


def softmax_diagonal_shift(r):
    """What a product computed with the softmax's Jacobian taken as diag(a) adds to the right one: its R{δ_{L+1}}
    gains a ⊙ Σ_k (a ⊙ R{z_{L+1}})_k / N, carried down by the backward pass of the gradient (it is linear there).
    Computed once per failing case, kept in its arrays for the other parameters' diagnoses."""
    if "softmax diagonal" in r.arrays:
        return r.arrays["softmax diagonal"]
    params = {k: np.asarray(p, np.float64) for k, p in r.arrays["params"].items()}
    v, X = r.arrays["direction"], np.asarray(r.arrays["X"], np.float64)
    activations, L, N = r.case.activations, len(params) // 2, X.shape[0]
    a, z_out = forward(params, X, activations)
    Ra = np.zeros_like(X)
    for l in range(1, L + 1):
        Rz = Ra @ params[f"W{l}"] + a[l] @ v[f"W{l}"] + v[f"b{l}"]
        if l < L:
            Ra = TABLE[activations[l - 1]][1](a[l + 1]) * Rz
    a_out = np.exp(log_softmax(z_out))
    shift = {}
    R = a_out * (a_out * Rz).sum(axis=1, keepdims=True) / N
    for l in range(L, 0, -1):
        shift[f"W{l}"], shift[f"b{l}"] = a[l].T @ R, R.sum(axis=0)
        if l > 1:
            R = (R @ params[f"W{l}"].T) * TABLE[activations[l - 2]][1](a[l])
    r.arrays["softmax diagonal"] = shift
    return shift


def prime_for_second_shift(r):
    """What a Hessian-vector product computed with φ'(z_l) in R{δ_l}'s curvature term, where φ''(z_l) belongs,
    adds to the right one: R{δ_l} gains (δ_{l+1} W_lᵀ) ⊙ (φ'(z_l) − φ''(z_l)) ⊙ R{z_l} at every hidden layer,
    carried down by R{δ}'s own (linear) recursion. Computed once per failing case, kept in its arrays."""
    if "prime for second" in r.arrays:
        return r.arrays["prime for second"]
    params = {k: np.asarray(p, np.float64) for k, p in r.arrays["params"].items()}
    v, X, y = r.arrays["direction"], np.asarray(r.arrays["X"], np.float64), r.arrays["y"]
    activations, L, N = r.case.activations, len(params) // 2, X.shape[0]
    a, z_out = forward(params, X, activations)
    Ra, Rz = np.zeros_like(X), {}
    for l in range(1, L + 1):
        Rz[l + 1] = Ra @ params[f"W{l}"] + a[l] @ v[f"W{l}"] + v[f"b{l}"]
        if l < L:
            Ra = TABLE[activations[l - 1]][1](a[l + 1]) * Rz[l + 1]
    delta = (np.exp(log_softmax(z_out)) - np.eye(z_out.shape[1])[y]) / N  # δ_{L+1}
    shift, S = {}, np.zeros_like(delta)  # S: the shift of R{δ_{l+1}}
    for l in range(L, 0, -1):
        shift[f"W{l}"], shift[f"b{l}"] = a[l].T @ S, S.sum(axis=0)
        if l == 1:
            break
        prime = TABLE[activations[l - 2]][1](a[l])
        back = delta @ params[f"W{l}"].T
        S = (S @ params[f"W{l}"].T) * prime + back * (prime - SECOND_OF[activations[l - 2]](a[l], prime)) * Rz[l]
        delta = back * prime
    r.arrays["prime for second"] = shift
    return shift


class ProductModel(Model):
    """The seed network's products along a direction v = {V_l, c_l}, of `depth` weight layers."""

    mixes_penalty = False

    def __init__(self, depth, product):
        self.depth, self.product = depth, product

    def penalty_direction(self, r, name):
        """λV, where λ > 0: the penalty λ‖W‖²'s Hessian times v is 2λV (the biases have none)."""
        return r.case.lam * r.arrays["direction"][name] if r.case.lam > 0 else None

    def penalty_words(self, name, ps, cases):
        return penalty_law_words(name, ps, cases, f"λV_{name}", f"the penalty's term 2λV (the Hessian of λ‖{name}‖² "
                                 "is 2λI, times v)", f"the penalty's term is {{}}, expected 2λV (the Hessian of "
                                 f"λ‖{name}‖² is 2λI, times v)")

    def multiple_words(self, name, multiples, cases):
        return None

    def expected_shape(self, name, r):
        return expected_shape(name, r.case)

    def value_words(self, name, failing, results, dtype, kind, candidate_of):
        other, words = OTHER[self.product]
        rtol = tolerance(dtype).rtol
        if all(matches(candidate_of(r), other_product(r, other)[name], rtol) for r in failing):
            return Diagnosis(f"matches {words}", "slip")
        if all(matches(candidate_of(r), r.arrays["reference"][name] + softmax_diagonal_shift(r)[name], rtol)
               for r in failing):
            return Diagnosis("matches the softmax's Jacobian taken as diag(a): R{δ} at the output is "
                             "(diag(a) − a aᵀ) R{z} / N, row by row; its − a aᵀ R{z} is missing", "slip")
        if self.product == "hvp" and \
                all(matches(candidate_of(r), r.arrays["reference"][name] + prime_for_second_shift(r)[name], rtol)
                    for r in failing):
            return Diagnosis("matches R{δ} propagated with φ' where φ'' belongs: its curvature term is "
                             "(δ Wᵀ) ⊙ φ''(z) ⊙ R{z}, the derivative of φ'(z) along v, not φ'(z) ⊙ R{z}", "slip")
        # The activations seen only where the product is wrong, when every failing case has one of them: their
        # φ'' (relu's is 0, so a missing φ'' term leaves relu networks right).
        right = {act for r in results if r.parameters[name].ok for act in r.case.activations}
        bad = {act for r in failing for act in r.case.activations} - right
        curved = {act for act in bad if SECOND[act] != "0"}
        if right and bad and bad == curved and all(bad & set(r.case.activations) for r in failing):
            bad = [act for act in PRIME if act in bad]
            return Diagnosis(f"wrong only with {' and '.join(bad)}, right where φ'' is 0 (relu): check the φ''(z) "
                             "term of R{δ}, (δ Wᵀ) ⊙ φ''(z) ⊙ R{z} (" + "; ".join(f"{act}: φ'' = {SECOND[act]}"
                                                                           for act in bad) + ")", "activation")
        return None


class DirectionModel(Model):
    """A user's loss's Hessian-vector product (problems/loss_products.py): a penalty λ‖θ‖² adds 2λv, a multiple
    of the direction, not of θ."""

    def penalty_direction(self, r, name):
        v = r.arrays["direction"][name]
        return v if v.size > 1 else None

    def penalty_words(self, name, ps, cases):
        words = Model.penalty_words(self, f"v_{name}", ps, cases)  # the law's words, of v's part for `name`
        return words and (words.replace("a penalty term's gradient would be", "a penalty's Hessian times v would be")
                          .replace("the gradient of λ‖θ‖² is 2λθ", "the Hessian of λ‖θ‖² is 2λI"))
