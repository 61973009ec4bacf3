"""Layer mode: a layer's backward(dout, cache) in the modular style of course assignments, checked against
jax.vjp of the user's NumPy forward(*inputs) -> out or (out, cache) run with jax.numpy, with a random dout.

A layer with several outputs, forward -> (h, c, cache) and backward(dh, dc, cache) as an LSTM step, gets one
random dout for each: the last item forward returns is its cache, the others its outputs.

The layer is checked as the loss ⟨dout, forward(inputs)⟩ of its float-array inputs: its gradient is the VJP,
its finite differences the witness's. Inputs that are not float arrays pass through, undifferentiated.

    reference_roles, candidate_roles   what each worker runs (the worker calls them by the mode's name)
    LayerProblem                       gradcheck's process: how a case reaches the candidate, and the words
"""

import copy
import time

import numpy as np

from ..errors import SetupError
from ..isolation.process import what
from .sampled import SampledProblem, kind, receive
from .shapes import Shapes
from .user_code import (Compiled, UserSide, argument_names, as_float64, required, check_floats, floats, input_name,
                        jax_ready, jax_value, not_traceable, numpy_first, reference_config, resolve, traced,
                        under_jax_numpy, untraceable_errors)


def output(result):
    """forward's output: out, whether it returns out or (out, cache); (h, c) where it returns (h, c, cache)."""
    if isinstance(result, tuple) and len(result) >= 2:
        return result[0] if len(result) == 2 else tuple(result[:-1])
    return result


def _settings_copied(inputs):
    """The inputs with fresh copies of the settings (dicts, lists): a forward that updates them (batch
    normalisation's running averages) must not carry a value from one call to the next."""
    return [copy.deepcopy(x) if isinstance(x, (dict, list)) else x for x in inputs]


def dout_seed(seed):
    """The seed of a case's random dout, from the case's."""
    return (*seed, 1)


def _cotangent(seed, out):
    """The random dout of a case, from its own seed, of the shape and dtype of `out` (a tuple of them for a
    tuple of outputs, each drawn in turn)."""
    rng = np.random.default_rng(list(seed))
    draw = lambda o: rng.standard_normal(np.shape(o)).astype(o.dtype)
    return tuple(draw(o) for o in out) if isinstance(out, tuple) else draw(out)


def _pairing(dout, out):
    """⟨dout, out⟩ in float64, summed over the outputs where there are several."""
    pairs = zip(dout, out) if isinstance(dout, tuple) else [(dout, out)]
    return float(sum(np.sum(np.asarray(d, np.float64) * np.asarray(o, np.float64)) for d, o in pairs))


class LayerSide(UserSide):
    """jax.vjp of the forward run with jax.numpy, with a random cotangent dout (x64 on); compiled with jax.jit
    once per shape and static value, eager where the forward cannot be traced."""

    def __init__(self, sampler, numpy_forward, jax_forward, names, path):
        super().__init__(sampler, numpy_forward)
        self.jax_forward, self.names, self.path = jax_forward, names, path
        self.labels = tuple(names)
        self.eager, self.compiled = False, Compiled()

    def checked(self, value, dtype):
        """(the forward's inputs, the differentiated arrays by name)."""
        inputs = tuple(value) if isinstance(value, (tuple, list)) else (value,)
        named = {input_name(self.names, i): x for i, x in enumerate(inputs) if floats(x)}
        if not named:
            raise SetupError(f"sample(rng) must return the forward's inputs, at least one of them a float array; "
                             f"got {what(value)}")
        named = check_floats(named, dtype)
        return tuple(named.get(input_name(self.names, i), x) for i, x in enumerate(inputs)), named

    def scalar(self, point):
        positions, dout = self.rest
        full = _settings_copied(self.value64)
        for i, name in positions.items():
            full[i] = point[name]
        return _pairing(dout, output(self.numpy_fn(*full)))

    def _pullback(self, inputs):
        """(out(floats, traced) -> the forward's out, pullback(floats, traced, dout) -> (out, the gradients of
        ⟨dout, out⟩ in the float inputs), the float inputs' positions, the traced ones', a key for the rest)."""
        import jax

        differentiated = [i for i, x in enumerate(inputs) if floats(x)]
        traced_ = [i for i, x in enumerate(inputs) if traced(x) and i not in differentiated]

        def out(float_values, traced_values):
            full = {i: x for i, x in enumerate(_settings_copied(inputs))}
            full.update(zip(differentiated, float_values))
            full.update(zip(traced_, traced_values))
            return output(self.jax_forward(*(full[i] for i in range(len(inputs)))))

        def pullback(float_values, traced_values, dout):
            result, vjp = jax.vjp(lambda *values: out(values, traced_values), *float_values)
            return result, vjp(dout)

        key = tuple((i, repr(x)) for i, x in enumerate(inputs) if i not in differentiated and i not in traced_)
        return out, pullback, differentiated, traced_, key

    def case_of(self, value, seed):
        return value, dout_seed(seed)

    def numpy_value(self, value):
        return output(numpy_first(self.numpy_fn, value, returns_scalar=False, value=output))

    def program(self, value, seed):
        out, pullback, differentiated, traced_, key = self._pullback(value)
        float_values = [jax_value(value[i]) for i in differentiated]
        traced_values = [jax_value(value[i]) for i in traced_]
        dout = _cotangent(dout_seed(seed), self.compiled.shape(key, out, float_values, traced_values))

        def finish(result):
            grads = {input_name(self.names, i): np.asarray(g) for i, g in zip(differentiated, result[1])}
            return {"dout": dout, "grads": grads, "eager": False}

        return key, pullback, (float_values, traced_values, dout), finish

    def reference(self, dout_seed):
        inputs = self.value
        result = self.remembered(lambda: self._autodiff(dout_seed))
        self.eager = self.eager or result["eager"]  # as a run that computed every case would say
        self.grads, dout = result["grads"], result["dout"]
        self.value64 = [as_float64(x) for x in inputs]
        self.rest = ({i: input_name(self.names, i) for i, x in enumerate(inputs) if floats(x)}, dout)
        return self.reply(dout=dout, grads=self.grads)

    def _autodiff(self, dout_seed):
        """{"dout": the case's cotangent, "grads": the reference, "eager": whether it ran eagerly}."""
        import jax

        jax_ready()
        inputs = self.value
        out, pullback, differentiated, traced_, key = self._pullback(inputs)
        eager = self.eager
        with reference_config():
            float_values = [jax_value(inputs[i]) for i in differentiated]  # inside x64: float64 stays float64
            traced_values = [jax_value(inputs[i]) for i in traced_]
            try:
                if not eager:
                    try:
                        dout = _cotangent(dout_seed, self.compiled.shape(key, out, float_values, traced_values))
                        result, grads = self.compiled(key, pullback, float_values, traced_values, dout)
                    except untraceable_errors():
                        self.eager = eager = True
                if eager:
                    start = time.perf_counter()
                    result = out(float_values, traced_values)
                    dout = _cotangent(dout_seed, jax.tree.map(np.asarray, result))
                    result, grads = pullback(float_values, traced_values, dout)
                    self.compiled.run_s += time.perf_counter() - start
            except Exception as exc:
                raise not_traceable(exc, self.path, "") from None
        grads = {input_name(self.names, i): np.asarray(g) for i, g in zip(differentiated, grads)}
        return {"dout": dout, "grads": grads, "eager": eager}


class LayerCandidate:
    """forward(*inputs) for the cache, then backward(dout, cache) (backward(dh, dc, cache) for several outputs):
    one gradient per float-array input."""

    def __init__(self, forward, backward, names):
        self.forward, self.backward, self.names = forward, backward, names

    def __call__(self, dout, *inputs):
        # The forward may update its settings in place (batch normalisation's running averages): it gets
        # copies of them, so that only its array inputs, which it must not change, are watched.
        result = self.forward(*_settings_copied(inputs))
        cache = result[-1] if isinstance(result, tuple) and len(result) >= 2 else tuple(inputs)
        grads = self.backward(*(dout if isinstance(dout, tuple) else (dout,)), cache)
        names = [input_name(self.names, i) for i, x in enumerate(inputs) if floats(x)]
        if not isinstance(grads, (tuple, list)):
            grads = (grads,)
        if len(grads) != len(names):
            raise TypeError(f"backward returned {len(grads)} gradients; forward has {len(names)} float-array "
                            f"inputs ({', '.join(names)}), one gradient each, in order")
        return dict(zip(names, grads))


def reference_roles(specs):
    """The reference worker's roles, and what gradcheck's process is told: the forward's argument names. specs:
    {"sample", "forward"}."""
    numpy_forward = resolve(specs["forward"])
    jax_forward, path = under_jax_numpy(specs["forward"] if isinstance(specs["forward"], str) else None,
                                        numpy_forward, "")
    names = argument_names(numpy_forward)
    sampler = resolve(specs["sample"]) if specs.get("sample") else \
        _from_shapes(specs["shapes"], numpy_forward, names, specs.get("settings"))
    return LayerSide(sampler, numpy_forward, jax_forward, names, path).roles(), {"names": names}


def _from_shapes(spec, forward, names, settings=None):
    """sample(rng) -> forward's inputs in order, drawn from --shapes (problems.shapes), with `settings` (a
    layer's dicts, {"bn_param": {"mode": "train"}}) as they are."""
    shapes = Shapes(spec, constants=settings)
    shapes.check(names, required(forward))
    given = [n for n in names if n in {e.name for e in shapes.entries} | set(shapes.constants)]

    def sample(rng):
        drawn = shapes(rng)
        return tuple(drawn[n] for n in given)

    return sample


def candidate_roles(specs):
    forward = resolve(specs["forward"])
    return {"candidate": LayerCandidate(forward, resolve(specs["candidate"]), argument_names(forward))}


class LayerProblem(SampledProblem):
    mode, function = "layer", "forward"
    plans = True
    own_inputs = ("dout",)  # the backward's to use up: a chain of layers hands each its own
    reference_roles, candidate_roles = staticmethod(reference_roles), staticmethod(candidate_roles)

    def floats(self, value):
        return {input_name(self.names, i): x for i, x in enumerate(value) if floats(x)}

    @staticmethod
    def data(value):
        return value

    def shapes(self, value):
        return tuple((input_name(self.names, i), tuple(np.shape(x))) for i, x in enumerate(value)
                     if isinstance(x, np.ndarray))

    def structure(self, value):
        return (("inputs", tuple((input_name(self.names, i), kind(x)) for i, x in enumerate(value))),)

    def run(self, value, case, seed):
        """The reference first, for the shape of dout; then the candidate, given that dout."""
        self.reference.submit("reference", (dout_seed(seed),), ("seed",))
        result = receive(self.reference, "the forward", case.describe())
        self.candidate.submit("candidate", (result["dout"], *value),
                              ("dout", *(input_name(self.names, i) for i in range(len(value)))))
        return result

    @staticmethod
    def heading(report):
        return f"gradcheck: {report['candidate']} against jax.vjp of {report['config']['reference']}, with a random dout"
