"""Loss mode, second order: hvp(params, v, *data) -> H v, a hand-derived Hessian-vector product of the user's
NumPy loss(params, *data), checked against jax.jvp of jax.grad of that loss run with jax.numpy (forward-over-
reverse), one random direction v per case, drawn with the case.

The witness holds the reference H v to central differences of F(θ) = ⟨∇L(θ), v⟩ along random directions
(∇F = H v, H being symmetric), ∇L from jax.grad of the same loss: a second autodiff path, reverse mode alone,
against the first's forward-over-reverse. Its Taylor test measures the candidate's H v as F's gradient.

    reference_roles, candidate_roles   what each worker runs (the worker calls them by the mode's name)
    LossProductProblem                 gradcheck's process
"""

import time

import numpy as np

from ..diagnose.products import DirectionModel
from ..isolation.values import Tree
from .loss import ALTERNATIVE, LossProblem, LossSide, reference_roles as loss_roles
from .sampled import receive
from .user_code import (as_float64, jax_value, not_traceable, numpy_first, reference_config, resolve, traced,
                        untraceable_errors)


class LossProductSide(LossSide):
    """The loss mode's reference side, for H v: the sample carries its direction v."""

    labels = ("params", "data", "v")

    def sample(self, seed, dtype):
        params, data = super().sample(seed, dtype).value
        rng = np.random.default_rng([*seed, 5])
        self.direction = {k: rng.standard_normal(np.shape(p)).astype(p.dtype) for k, p in params.items()}
        return Tree((params, data, self.direction), self.labels)

    def _gradient(self, data):
        """(a key, grad(params, *traced data)) of the loss, for the witness's F."""
        key, value_and_grad = self._function(data)
        return ("grad", key), lambda params, *traced_values: value_and_grad(params, *traced_values)[1]

    def _product(self, data):
        import jax

        key, value_and_grad = self._function(data)

        def product(params, v, *traced_values):
            return jax.jvp(lambda p: value_and_grad(p, *traced_values)[1], (params,), (v,))[1]

        return ("hvp", key), product

    def scalar(self, point):
        """F(θ) = ⟨∇L(θ), v⟩, in float64."""
        import jax

        data = self.rest
        with reference_config():
            point = {k: jax_value(v) for k, v in point.items()}
            if self.eager:
                grads = jax.grad(lambda p: self.jax_loss(p, *(jax_value(d) for d in data)))(point)
            else:
                key, gradient = self._gradient(data)
                grads = self.compiled(key, gradient, point, *(jax_value(d) for d in data if traced(d)))
        return sum(float(np.vdot(np.asarray(grads[k], np.float64), np.asarray(self.direction[k], np.float64)))
                   for k in self.direction)

    def reference(self):
        import jax

        params, data = self.value
        numpy_first(self.numpy_fn, (params, *data), returns_scalar=True)
        self.rest = tuple(as_float64(d) for d in data)
        with reference_config():
            jax_params = {k: jax_value(p) for k, p in params.items()}
            v = {k: jax_value(d) for k, d in self.direction.items()}
            try:
                if not self.eager:
                    try:
                        key, product = self._product(data)
                        return self._result(self.compiled(key, product, jax_params, v,
                                                          *(jax_value(d) for d in data if traced(d))))
                    except untraceable_errors():
                        self.eager = True
                jax_data = tuple(jax_value(d) for d in data)
                start = time.perf_counter()
                gradient = jax.grad(lambda p: self.jax_loss(p, *jax_data))
                Hv = jax.jvp(gradient, (jax_params,), (v,))[1]
                self.compiled.run_s += time.perf_counter() - start
            except Exception as exc:
                raise not_traceable(exc, self.path, ALTERNATIVE) from None
            return self._result(Hv)


def reference_roles(specs):
    """The loss mode's reference roles, on a side that draws v and differentiates twice."""
    return loss_roles(specs, LossProductSide)


def candidate_roles(specs):
    return {"candidate": resolve(specs["candidate"])}


class LossProductProblem(LossProblem):
    mode, function = "loss_hvp", "loss"
    reference_roles, candidate_roles = staticmethod(reference_roles), staticmethod(candidate_roles)
    model = DirectionModel()
    # Where the loss has a kink, F = ⟨∇L, v⟩ jumps: its one-sided slopes bound nothing, and no entry is excused.
    excuses_kinks = False

    @staticmethod
    def shapes(value):
        return LossProblem.shapes(value[:2])

    @staticmethod
    def structure(value):
        return LossProblem.structure(value[:2])

    def start(self, case):
        prepared = super().start(case)
        prepared.arrays["direction"] = {k: np.asarray(d, np.float64) for k, d in self._direction.items()}
        return prepared

    def run(self, value, case, seed):
        params, data, v = value
        self._direction = v
        self.candidate.submit("candidate", (params, v, *data),
                              ("params", "v", *(f"data[{i}]" for i in range(len(data)))))
        self.reference.submit("reference", (), ())
        return receive(self.reference, "the loss", case.describe())

    def reference_name(self):
        return f"jax.jvp of jax.grad of {super().reference_name()}"

    @staticmethod
    def heading(report):
        return f"gradcheck: {report['candidate']} against {report['config']['reference']}"
