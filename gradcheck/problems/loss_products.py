"""Loss mode, second order: hvp(params, v, *data) -> H v, a hand-derived Hessian-vector product of the user's
NumPy loss(params, *data), checked against jax.jvp of jax.grad of that loss run with jax.numpy (forward-over-
reverse), one random direction v per case, drawn with the case.

The witness holds the reference H v to central differences of F(θ) = ⟨∇L(θ), v⟩ along random directions
(∇F = H v, H being symmetric), ∇L from jax.grad of the same loss: a second autodiff path, reverse mode alone,
against the first's forward-over-reverse. Its Taylor test measures the candidate's H v as F's gradient. And the
candidate is asked once more, along another direction u: ⟨u, C(v)⟩ must equal ⟨v, C(u)⟩, as for the Hessian of
any function (problems.symmetry).

    reference_roles, candidate_roles   what each worker runs (the worker calls them by the mode's name)
    LossProductProblem                 gradcheck's process
"""


import numpy as np

from jax_reference.tolerances import tolerance

from ..diagnose.products import DirectionModel
from ..isolation.values import Tree
from . import symmetry
from .loss import LossProblem, LossSide, candidate_roles, reference_roles as loss_roles
from .user_code import jax_ready, jax_value, reference_config, traced


class LossProductSide(LossSide):
    """The loss mode's reference side, for H v: the sample carries its direction v."""

    labels = ("params", "data", "v")

    def sample(self, seed, dtype):
        params, data = super().sample(seed, dtype).value
        rng = np.random.default_rng([*seed, 5])
        self.direction = {k: rng.standard_normal(np.shape(p)).astype(p.dtype) for k, p in params.items()}
        return Tree((params, data, self.direction), self.labels)

    def case_of(self, value, seed):
        return value, self.direction  # the case drawn last's: products are not planned

    def _arguments(self, jax_params):
        return jax_params, {k: jax_value(d) for k, d in self.direction.items()}

    def _compiled(self, data):
        """(a key, H v (params, v, *traced data)) to compile: forward-over-reverse."""
        import jax

        key, gradient = self._gradient(data)

        def product(params, v, *traced_values):
            return jax.jvp(lambda p: gradient(p, *traced_values), (params,), (v,))[1]

        return ("hvp", key), product

    @staticmethod
    def _eager(loss, jax_params, v):
        import jax

        return jax.jvp(jax.grad(loss), (jax_params,), (v,))[1]

    def scalar(self, point):
        """F(θ) = ⟨∇L(θ), v⟩, in float64."""
        import jax

        jax_ready()
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


def reference_roles(specs):
    """The loss mode's reference roles, on a side that draws v and differentiates twice."""
    return loss_roles(specs, LossProductSide)


class LossProductProblem(LossProblem):
    mode, function = "loss_hvp", "loss"
    plans = False  # each case's product computed in its turn
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

    def candidate_call(self, value):
        """hvp(params, v, *data)."""
        params, data, v = value
        self._direction, self._data = v, data
        return (params, v, *data), ("params", "v", *(f"data[{i}]" for i in range(len(data))))

    def witness(self, prepared, candidate):
        """The candidate's symmetry first (a second call, along u), then the reference's witness."""
        if set(candidate) == set(prepared.reference):
            self._symmetry(prepared, candidate)
        return super().witness(prepared, candidate)

    def _symmetry(self, prepared, Cv):
        """Within twice the tolerance's rtol of ‖u‖ ‖C(v)‖ + ‖v‖ ‖C(u)‖: products that each agree with H v and
        H u within the comparison's tolerance (whose scale is ‖H v‖) stay within it, H being exactly symmetric."""
        params = prepared.arrays["params"]
        rng = np.random.default_rng([*prepared.context, 6])
        u = {k: rng.standard_normal(np.shape(p)).astype(p.dtype) for k, p in params.items()}
        self.candidate.submit("candidate", (params, u, *self._data),
                              ("params", "u", *(f"data[{i}]" for i in range(len(self._data)))))
        Cu = symmetry.other_product(prepared, self.candidate.receive(), Cv)
        if Cu is None:
            return
        v = prepared.arrays["direction"]
        bound = 2 * tolerance(prepared.dtype).rtol * (symmetry.norm(u) * symmetry.norm(Cv)
                                                      + symmetry.norm(v) * symmetry.norm(Cu))
        symmetry.check(prepared, u, v, Cu, Cv, bound)

    def reference_name(self):
        return f"jax.jvp of jax.grad of {super().reference_name()}"

    @staticmethod
    def heading(report):
        return f"gradcheck: {report['candidate']} against {report['config']['reference']}"
