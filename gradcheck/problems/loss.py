"""Loss mode: grad(params, *data) -> dict, checked against jax.grad of the user's NumPy loss(params, *data)
run with jax.numpy (or of a loss written in JAX, --reference), over the cases sample(rng) -> (params, data).

    reference_roles, candidate_roles   what each worker runs (the worker calls them by the mode's name)
    LossProblem                        gradcheck's process: how a case reaches the candidate, and the words
"""

import time

import numpy as np

from ..errors import SetupError
from ..isolation.process import what
from .sampled import SampledProblem, kind, receive
from .user_code import (Compiled, UserSide, as_float64, cast, check_finite, check_floats, floats, jax_ready,
                        jax_value, not_traceable, numpy_first, reference_config, resolve, to_numpy, traced,
                        under_jax_numpy, untraceable_errors)

ALTERNATIVE = "; or pass a loss written in JAX with --reference"


class LossSide(UserSide):
    """jax.grad of the loss run with jax.numpy, in the dtype of the params (x64 on).

    Compiled with jax.jit, once per shape and per value of the data that are static (ints, strings, tuples): a
    new shape costs one compilation. Code that cannot be traced (Python `if` on a value, a boolean mask) runs
    eagerly instead, where every operation compiles anew for each shape: correct, slower.
    """

    labels = ("params", "data")

    def __init__(self, sampler, numpy_loss, jax_loss, path):
        super().__init__(sampler, numpy_loss)
        self.jax_loss, self.path = jax_loss, path
        self.eager, self.compiled = False, Compiled()

    def case_of(self, value, seed):
        """What the reference is computed from: the sample (loss_products: and its direction)."""
        return value

    def numpy_value(self, value):
        params, data = value
        return numpy_first(self.numpy_fn, (params, *data), returns_scalar=True)

    def program(self, value, seed):
        params, data = value
        key, function = self._compiled(data)
        arguments = (*self._arguments({k: jax_value(v) for k, v in params.items()}),
                     *(jax_value(d) for d in data if traced(d)))
        return key, function, arguments, lambda grads: {"grads": to_numpy(grads), "eager": False}

    @staticmethod
    def checked(value, dtype):
        """((params, data) as the candidate gets them, the differentiated arrays by name)."""
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise SetupError(f"sample(rng) must return (params, data); got {what(value)}")
        params, data = value
        if not isinstance(params, dict) or not params:
            raise SetupError(f"sample's params must be a non-empty dict of float arrays; got {what(params)}")
        for name, p in params.items():
            if not floats(p):
                raise SetupError(f"sample's params[{name!r}] must be a float array (0-d allowed); got "
                                 f"{what(p)}" + (f" of dtype {p.dtype}" if isinstance(p, np.ndarray) else ""))
        if not isinstance(data, (tuple, list)):
            raise SetupError(f"sample's data must be a tuple of the arguments after params; got {what(data)} "
                             "(return (params, (X, y)))")
        checked = check_floats({f"params[{k!r}]": v for k, v in params.items()}, dtype)
        params = {k: checked[f"params[{k!r}]"] for k in params}
        data = tuple(cast(d, dtype) for d in data)
        for i, d in enumerate(data):
            if floats(d):
                check_finite(f"data[{i}]", d)
        return (params, data), params

    def scalar(self, point):
        return float(self.numpy_fn(point, *self.rest))

    def _function(self, data):
        """(a key for the static data, the loss's value and gradient in params and the traced data)."""
        import jax

        fixed = {i: d for i, d in enumerate(data) if not traced(d)}

        def loss(params, *traced_values):
            values = iter(traced_values)
            return self.jax_loss(params, *(fixed[i] if i in fixed else next(values) for i in range(len(data))))

        return tuple((i, repr(d)) for i, d in fixed.items()), jax.value_and_grad(loss)

    def reference(self):
        self.rest = tuple(as_float64(d) for d in self.value[1])
        result = self.remembered(self._autodiff)
        self.eager = self.eager or result["eager"]  # as a run that computed every case would say
        self.grads = result["grads"]
        return self.reply(grads=self.grads)

    def _autodiff(self):
        """{"grads": the reference, "eager": whether it ran eagerly}."""
        jax_ready()
        params, data = self.value
        with reference_config():
            jax_params = {k: jax_value(v) for k, v in params.items()}
            try:
                if not self.eager:
                    try:
                        key, function = self._compiled(data)
                        return self._result(self.compiled(key, function, *self._arguments(jax_params),
                                                          *(jax_value(d) for d in data if traced(d))), False)
                    except untraceable_errors():
                        self.eager = True
                jax_data = tuple(jax_value(d) for d in data)
                start = time.perf_counter()
                result = self._eager(lambda p: self.jax_loss(p, *jax_data), *self._arguments(jax_params))
                self.compiled.run_s += time.perf_counter() - start  # eagerly, compiling and running are one
            except Exception as exc:
                raise not_traceable(exc, self.path, ALTERNATIVE) from None
            return self._result(result, True)

    # What the reference is, as a function of the loss: its gradient here (loss_products: H v).

    def _arguments(self, jax_params):
        return (jax_params,)

    def _gradient(self, data):
        """(a key, gradient(params, *traced data)) to compile."""
        key, value_and_grad = self._function(data)
        return key, lambda params, *traced_values: value_and_grad(params, *traced_values)[1]

    _compiled = _gradient  # the reference to compile: the gradient itself

    @staticmethod
    def _eager(loss, jax_params):
        import jax

        return jax.grad(loss)(jax_params)

    @staticmethod
    def _result(grads, eager):
        return {"grads": to_numpy(grads), "eager": eager}


def reference_roles(specs, side=LossSide):
    """The reference worker's roles, and what gradcheck's process is told (nothing). specs: {"sample", "loss",
    optionally "reference"}, spec strings or functions; side: the class of the reference's side."""
    numpy_loss = resolve(specs["loss"])
    path = None
    if specs.get("reference"):
        jax_loss = resolve(specs["reference"])
    else:
        jax_loss, path = under_jax_numpy(specs["loss"] if isinstance(specs["loss"], str) else None, numpy_loss,
                                         ALTERNATIVE)
    return side(resolve(specs["sample"]), numpy_loss, jax_loss, path).roles(), {}


def candidate_roles(specs):
    return {"candidate": resolve(specs["candidate"])}


class LossProblem(SampledProblem):
    mode, function = "loss", "loss"
    plans = True
    reference_roles, candidate_roles = staticmethod(reference_roles), staticmethod(candidate_roles)

    @staticmethod
    def floats(value):
        return value[0]

    @staticmethod
    def data(value):
        return value[1]

    @staticmethod
    def shapes(value):
        params, data = value
        named = [*params.items(), *((f"data[{i}]", d) for i, d in enumerate(data))]
        return tuple((name, tuple(np.shape(x))) for name, x in named if isinstance(x, np.ndarray))

    @staticmethod
    def structure(value):
        params, data = value
        return (("params", tuple(params)), ("data", tuple(kind(d) for d in data)))

    def run(self, value, case, seed):
        """The candidate set to work first, then the reference computed meanwhile."""
        self.candidate.submit("candidate", *self.candidate_call(value))
        self.reference.submit("reference", (), ())
        return receive(self.reference, "the loss", case.describe())

    @staticmethod
    def candidate_call(value):
        """(the candidate's arguments, their names) for a sample."""
        params, data = value
        return (params, *data), ("params", *(f"data[{i}]" for i in range(len(data))))

    @staticmethod
    def heading(report):
        return f"gradcheck: {report['candidate']} against jax.grad of {report['config']['reference']}"
