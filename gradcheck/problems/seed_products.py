"""The seed model's second order: a candidate with the signature of manual_grad.hvp (or gnvp),
hvp(params, v, X, y, lam, activation) -> H v, checked against jax_reference's products from autodiff alone, over
the seed mode's networks (seed_cases.py), one random direction v per case.

The witness needs no autodiff: the reference's H v is held to central differences of manual_grad's gradient
along random directions w, ⟨H v, w⟩ = d/dt ⟨∇J~(θ + t w), v⟩ (H is symmetric), in float64. The Gauss-Newton
product is not the derivative of anything the witness can difference: it is witnessed by no finite differences
(said in the report), only by autodiff.
"""

import numpy as np

import jax_reference as jr
from jax_reference.tolerances import product_scales, tolerance
from manual_grad import fast

from ..diagnose.products import ProductModel
from ..pipeline.step import Prepared
from ..pipeline.witness import Witness
from . import symmetry
from .seed import WITNESS_ALL, WITNESS_EVERY, SeedProblem, _float64
from .seed_cases import draw_cases

PRODUCT_ARGS = ("params", "v", "X", "y", "lam", "activation")
NAMES = {"hvp": "the Hessian-vector product", "gnvp": "the Gauss-Newton-vector product"}


class SeedProductProblem(SeedProblem):
    """SeedProblem for products: `product` is "hvp" or "gnvp"."""

    def __init__(self, candidate, *, product="hvp", **options):
        if product not in NAMES:
            raise ValueError(f"product must be 'hvp' or 'gnvp'; got {product!r}")
        super().__init__(candidate, **options)
        self.product = product
        self.model = ProductModel(self.depth, product)

    candidate_args = PRODUCT_ARGS
    keeps_references = False  # each case's product computed in `start`, with JAX imported as the worker starts

    def cases(self, n, seed):
        drawn = draw_cases(n, seed, self.activations, self.lams, self.depth)
        self._prepared = ((case, case.build(self.dtype)) for case in drawn)
        return drawn

    def start(self, case):
        _, (params, X, y) = next(self._prepared)
        rng = np.random.default_rng([case.seed, case.index, 2])
        v = {k: rng.standard_normal(p.shape).astype(self.dtype) for k, p in params.items()}
        arguments = (params, v, X, y, case.lam, case.activation)
        self.submit("candidate", arguments, PRODUCT_ARGS)
        reference = _float64(getattr(jr, self.product)(*arguments))
        params64, v64, X64 = _float64(params), _float64(v), X.astype(np.float64)
        ref64 = reference if self.dtype == np.float64 else _float64(getattr(jr, self.product)(params64, v64, X64, y,
                                                                                              case.lam, case.activation))
        data_part = {k: g - 2 * case.lam * v64[k] if k.startswith("W") else g for k, g in ref64.items()}
        checked = None
        witnessed = self.product == "hvp" and not case.kinks and (case.index < WITNESS_ALL or
                                                                   case.index % WITNESS_EVERY == 0)
        if witnessed:
            def F(point):  # ⟨∇J~(point), v⟩, whose gradient is H v
                grads = fast.value_and_grad(point, X64, y, case.lam, case.activations)[1]
                return sum(float(np.sum(grads[k] * v64[k])) for k in v64)

            witness = Witness(F, params64, entries=0, taylor=False)
            checked = witness.check(ref64, None, np.random.default_rng([case.seed, case.index, 3]))
        scales = product_scales(params, v, X, y, case.activation)
        arrays = {"data_part": data_part, "params": params, "direction": v64, "X": X, "y": y}
        return Prepared(case, self.dtype, reference, dict.fromkeys(scales, self.dtype), scales, arrays,
                        context=checked)

    def witness(self, prepared, candidate):
        """The reference's witness, computed in `start`; and, for the Hessian, the candidate's symmetry: a second
        call along u, and ⟨u, C(v)⟩ against ⟨v, C(u)⟩, equal for the Hessian of any function (needing no
        reference at all). Within the tolerance the two products' own errors allow."""
        if self.product == "hvp" and set(candidate) == set(prepared.reference):
            self._symmetry(prepared, candidate)
        return prepared.context

    def _symmetry(self, prepared, Cv):
        case, (params, X, y) = prepared.case, (prepared.arrays[k] for k in ("params", "X", "y"))
        rng = np.random.default_rng([case.seed, case.index, 4])
        u = {k: rng.standard_normal(p.shape).astype(self.dtype) for k, p in params.items()}
        self.candidate.submit("candidate", (params, u, X, y, case.lam, case.activation), PRODUCT_ARGS)
        Cu = symmetry.other_product(prepared, self.candidate.receive(), Cv)
        if Cu is None:
            return
        v, u64 = prepared.arrays["direction"], _float64(u)
        s_v = float(np.sqrt(sum(s ** 2 for s in prepared.scales.values())))  # ‖s_P‖ over the parameters, along v
        s_u = symmetry.norm(product_scales(params, u, X, y, case.activation))
        bound = tolerance(self.dtype).rtol * (symmetry.norm(u64) * (symmetry.norm(Cv) + s_v)
                                              + symmetry.norm(v) * (symmetry.norm(Cu) + s_u))
        symmetry.check(prepared, u64, v, Cu, Cv, bound)

    def settings(self, results):
        return {**super().settings(results), "mode": self.product}

    def report_settings(self, results):
        return {**super().report_settings(results), "product": self.product}

    def witness_summary(self, results):
        if self.product == "gnvp":
            return {"none": "the Gauss-Newton product is the derivative of no function that finite differences can "
                    "take: it is checked against autodiff alone", "what": "none", "scale": "", "cases_at_kinks": 0}
        return {"what": "central finite differences of ⟨∇J~, v⟩ (manual_grad's gradient) in float64 against "
                "the reference's H v", "scale": "‖H v‖ + |⟨∇J~, v⟩|",
                "kinks": "cases with exact zeros at a relu or leaky_relu kink are skipped",
                "cases_at_kinks": sum(r.case.kinks for r in results),
                "sampling": {"every case up to": WITNESS_ALL, "then one in": WITNESS_EVERY}}

    def heading(self, report):
        return f"gradcheck: {report['candidate']} against {NAMES[self.product]} of jax_reference.loss, by autodiff"
