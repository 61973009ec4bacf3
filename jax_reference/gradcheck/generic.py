"""gradcheck for any derivation: a NumPy loss and its hand-derived gradient (loss mode), or a layer's
forward and backward pass (layer mode).

    loss mode:   grad(params, *data) -> dict        against jax.grad of loss(params, *data)
    layer mode:  backward(dout, cache) -> grads      against jax.vjp of forward(*inputs), dout random

The reference is autodiff of the user's own NumPy code, run with jax.numpy in
NumPy's place (jaxnumpy.py), or of a loss written in JAX (--reference). The
user's sampler, loss and forward run in a worker process of their own (the
reference's worker), apart from the candidate's: a candidate cannot reach the
reference's code, and nothing the user's code does can end gradcheck.

Both workers' functions are built here, by `roles`. gradcheck's own process
draws the cases (a seed each), checks what the sampler returns, compares and
diagnoses, as in the seed model's mode.
"""

import contextlib
import copy
import numbers
import time
from dataclasses import dataclass

import numpy as np

from jax_reference.tolerances import FD_STEP

from . import jaxnumpy, values
from .values import Tree
from .loader import load, split

# Central differences along a unit direction take the seed model's step, FD_STEP. A kink on the segment
# shows as one-sided slopes that differ by more than KINK_SLOPE of the scale ‖g‖ + |F|; checked again at
# KINK_AT, it sits at the point itself.
KINK_SLOPE = 1e-3
KINK_AT = 1e-8
# The Taylor remainder test's steps: F(θ + h v) − F(θ) − h ⟨g, v⟩ falls as h² for the right gradient, as h
# for a wrong one. Remainders below ROUNDOFF · |F| are rounding, and left out of the fit.
TAYLOR_STEPS = tuple(2.0 ** -k for k in range(4, 12))
ROUNDOFF = 1e-11


# ---- the reference's worker: the user's sampler, NumPy function and its autodiff ----


def _floats(value):
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def input_name(names, i):
    """The forward's name for its i-th input, from its signature."""
    return names[i] if i < len(names) else f"input {i}"


def _as_float64(value):
    return value.astype(np.float64) if _floats(value) else value


def _jax_value(value):
    """Arrays as JAX arrays (so that jax.numpy's .at works on them), anything else as it is."""
    import jax.numpy as jnp

    return jnp.asarray(value) if isinstance(value, np.ndarray) else value


def _to_numpy(tree):
    import jax

    return jax.tree.map(np.asarray, tree)


class _Sampler:
    """sample(rng) for the case's seed; labels name the value's top-level items in a message."""

    def __init__(self, sample, labels):
        self.sample, self.labels = sample, labels

    def __call__(self, seed):
        return Tree(self.sample(np.random.default_rng(list(seed))), self.labels)


class NotTraceable(Exception):
    """The user's code cannot be differentiated as it is; the message says where and what to write instead."""

    located = True  # the message names the user's line: isolation.call adds no place of its own


# Errors of code that runs in NumPy and eagerly in JAX, but not under jax.jit: Python control flow on values,
# boolean masks, conversions to Python numbers.
def _untraceable_errors():
    import jax

    return tuple(getattr(jax.errors, name) for name in (
        "ConcretizationTypeError", "TracerBoolConversionError", "TracerIntegerConversionError",
        "NonConcreteBooleanIndexError", "TracerArrayConversionError") if hasattr(jax.errors, name))


def _traced(value):
    return isinstance(value, (np.ndarray, numbers.Number)) and not isinstance(value, bool)


class _Compiled:
    """jax.jit executables by the shapes and dtypes of their arguments, compiled ahead of the call so that the
    time spent compiling is measured apart from the time spent running."""

    def __init__(self):
        self.executables, self.compile_s, self.run_s = {}, 0.0, 0.0

    def __call__(self, key, function, *args):
        import jax

        signature = (key, str(jax.tree.map(lambda a: (np.shape(a), str(getattr(a, "dtype", type(a).__name__))), args)))
        if signature not in self.executables:
            start = time.perf_counter()
            self.executables[signature] = jax.jit(function).lower(*args).compile()
            self.compile_s += time.perf_counter() - start
        start = time.perf_counter()
        result = jax.block_until_ready(self.executables[signature](*args))
        self.run_s += time.perf_counter() - start
        return result

    def timing(self, eager):
        return {"compile_s": self.compile_s, "run_s": self.run_s, "eager": eager}


@contextlib.contextmanager
def _reference_config(jax):
    """x64, so that float64 stays float64; full-precision matrix products, which a GPU's default (TF32 for
    float32) is not, and the float32 tolerance assumes."""
    with jax.enable_x64(True), jax.default_matmul_precision("highest"):
        yield


class _LossReference:
    """jax.grad of the loss run with jax.numpy, in the dtype of the params (x64 on).

    Compiled with jax.jit, once per shape and per value of the data that are neither arrays nor numbers:
    a new shape costs one compilation. Code that cannot be traced (Python `if` on a value, a boolean mask)
    runs eagerly instead, where every operation compiles anew for each shape: correct, slower.
    """

    def __init__(self, jax_loss, path, alternative):
        self.jax_loss, self.path, self.alternative = jax_loss, path, alternative
        self.eager, self.compiled = False, _Compiled()

    def _function(self, data):
        """(a key for the data that are neither arrays nor numbers, the loss's value and gradient)."""
        import jax

        fixed = {i: d for i, d in enumerate(data) if not _traced(d)}

        def loss(params, *traced):
            values_ = iter(traced)
            return self.jax_loss(params, *(fixed[i] if i in fixed else next(values_) for i in range(len(data))))

        return tuple((i, repr(d)) for i, d in fixed.items()), jax.value_and_grad(loss)

    def __call__(self, params, data):
        import jax

        with _reference_config(jax):
            jax_params = {k: _jax_value(v) for k, v in params.items()}
            try:
                if not self.eager:
                    try:
                        key, function = self._function(data)
                        J, grads = self.compiled(key, function, jax_params,
                                                 *(_jax_value(d) for d in data if _traced(d)))
                        return self._result(J, grads)
                    except _untraceable_errors():
                        self.eager = True
                jax_data = tuple(_jax_value(d) for d in data)
                start = time.perf_counter()
                J, grads = jax.value_and_grad(lambda p: self.jax_loss(p, *jax_data))(jax_params)
                self.compiled.run_s += time.perf_counter() - start  # eagerly, compiling and running are one
            except Exception as exc:
                raise NotTraceable(_explain(exc, self.path, self.alternative)) from None
            return self._result(J, grads)

    def _result(self, J, grads):
        return Tree({"J": np.asarray(J), "grads": _to_numpy(grads), "timing": self.compiled.timing(self.eager)})


def _explain(exc, path, alternative):
    if path is None:  # a loss written in JAX: its own error, as it is
        return f"{type(exc).__name__}: {exc}"
    if "scalar-output" in str(exc):
        return f"the loss must return a scalar: {str(exc).strip().splitlines()[0]}"
    return jaxnumpy.advice(exc, path, alternative)


def _output(result):
    """forward's out, whether it returns out or (out, cache)."""
    return result[0] if isinstance(result, tuple) and len(result) == 2 else result


class _LayerReference:
    """jax.vjp of the forward run with jax.numpy, with a random cotangent dout (x64 on); compiled with
    jax.jit as `_LossReference` is, eager where the forward cannot be traced."""

    def __init__(self, jax_forward, names, path):
        self.jax_forward, self.names, self.path = jax_forward, names, path
        self.eager, self.compiled = False, _Compiled()

    def _pullback(self, inputs):
        """(out(floats, traced) -> the forward's out, pullback(floats, traced, dout) -> (out, the gradients of
        ⟨dout, out⟩ in the float inputs), the float inputs' positions, the traced ones', a key for the rest)."""
        import jax

        floats = [i for i, x in enumerate(inputs) if _floats(x)]
        traced = [i for i, x in enumerate(inputs) if _traced(x) and i not in floats]

        def out(float_values, traced_values):
            return _output(self.jax_forward(*_rebuild(inputs, floats, float_values, traced, traced_values)))

        def pullback(float_values, traced_values, dout):
            result, vjp = jax.vjp(lambda *values: out(values, traced_values), *float_values)
            return result, vjp(dout)

        key = tuple((i, repr(x)) for i, x in enumerate(inputs) if i not in floats and i not in traced)
        return out, pullback, floats, traced, key

    def __call__(self, inputs, dout_seed):
        import jax

        out, pullback, floats, traced, key = self._pullback(inputs)

        with _reference_config(jax):
            float_values = [_jax_value(inputs[i]) for i in floats]  # inside x64: float64 stays float64
            traced_values = [_jax_value(inputs[i]) for i in traced]
            try:
                if not self.eager:
                    try:
                        shape = jax.eval_shape(out, float_values, traced_values)
                        dout = _cotangent(dout_seed, shape.shape, shape.dtype)
                        result, grads = self.compiled(key, pullback, float_values, traced_values, dout)
                    except _untraceable_errors():
                        self.eager = True
                if self.eager:
                    start = time.perf_counter()
                    result = out(float_values, traced_values)
                    dout = _cotangent(dout_seed, np.shape(result), np.asarray(result).dtype)
                    result, grads = pullback(float_values, traced_values, dout)
                    self.compiled.run_s += time.perf_counter() - start
            except Exception as exc:
                raise NotTraceable(_explain(exc, self.path, "")) from None
            return Tree({"out": np.asarray(result), "dout": dout, "timing": self.compiled.timing(self.eager),
                         "grads": {input_name(self.names, i): np.asarray(g) for i, g in zip(floats, grads)}})


def _cotangent(seed, shape, dtype):
    """The random dout of a case, from its own seed."""
    return np.random.default_rng(list(seed)).standard_normal(shape).astype(dtype)


def _rebuild(inputs, floats, float_values, traced, traced_values):
    """The forward's inputs with the float and traced ones in place, and fresh copies of the settings: a forward
    that updates them (batch normalisation's running averages) must not keep a traced value from one call to
    the next."""
    full = {i: copy.deepcopy(x) for i, x in enumerate(inputs) if i not in floats and i not in traced}
    full.update(zip(floats, float_values))
    full.update(zip(traced, traced_values))
    return [full[i] for i in range(len(inputs))]


class _Witness:
    """Finite differences of the user's NumPy function, in float64: of the loss, or of ⟨dout, forward⟩.

    For each differentiable name: along a random unit direction v, and along one entry drawn at random,
    the central difference against ⟨reference, v⟩, with kinks detected by one-sided slopes; and along v,
    the Taylor remainders of the candidate's and the reference's gradients at TAYLOR_STEPS.
    """

    def __init__(self, numpy_fn, mode):
        self.numpy_fn, self.mode = numpy_fn, mode

    def _scalar(self, point, rest):
        if self.mode == "loss":
            return float(self.numpy_fn(point, *rest))
        inputs, positions, dout = rest
        full = list(inputs)
        for i, name in positions.items():
            full[i] = point[name]
        return float(np.sum(dout * np.asarray(_output(self.numpy_fn(*full)), np.float64)))

    def _difference(self, point, rest, name, v, F0, scale):
        """The central difference along v, and whether a kink lies on the segment, or at the point itself."""
        def F(h):
            return self._scalar({**point, name: point[name] + h * v}, rest)

        plus, minus = F(FD_STEP), F(-FD_STEP)
        kink = abs((plus - F0) - (F0 - minus)) / FD_STEP > KINK_SLOPE * scale
        at_kink = kink and abs((F(KINK_AT) - F0) - (F0 - F(-KINK_AT))) / KINK_AT > KINK_SLOPE * scale
        return (plus - minus) / (2 * FD_STEP), bool(kink), bool(at_kink), F

    def __call__(self, point, rest, reference, candidate, seed):
        point = {k: np.asarray(v, np.float64) for k, v in point.items()}
        if self.mode == "loss":
            rest = tuple(_as_float64(d) for d in rest)
        else:
            inputs, names, dout = rest
            rest = ([_as_float64(x) for x in inputs],
                    {i: input_name(names, i) for i in range(len(inputs)) if input_name(names, i) in point},
                    np.asarray(dout, np.float64))
        rng = np.random.default_rng(list(seed))
        F0 = self._scalar(point, rest)
        result = {}
        for name in point:
            g_ref = np.asarray(reference[name], np.float64)
            scale = float(np.linalg.norm(g_ref) + abs(F0))
            v = rng.standard_normal(point[name].shape)
            v /= np.linalg.norm(v) or 1.0
            entry = np.zeros(point[name].shape)
            entry.flat[rng.integers(entry.size)] = 1.0
            fd, kink, at_kink, F = self._difference(point, rest, name, v, F0, scale)
            fd_entry, kink_entry, at_kink_entry, _ = self._difference(point, rest, name, entry, F0, scale)
            remainders = {}
            for who, g in (("reference", reference), ("candidate", candidate)):
                if g is not None and name in g and np.shape(g[name]) == point[name].shape:
                    slope = float(np.vdot(np.asarray(g[name], np.float64), v))
                    remainders[who] = [abs(F(h) - F0 - h * slope) for h in TAYLOR_STEPS]
            checks = [(fd, float(np.vdot(g_ref, v)), kink), (fd_entry, float(np.vdot(g_ref, entry)), kink_entry)]
            result[name] = {"checks": [{"fd": f, "along": a} for f, a, k in checks if not k],
                            "scale": scale, "kink": kink, "at_kink": at_kink or at_kink_entry, "F0": F0,
                            "remainders": remainders}
        return Tree(result)


def _jax_numpy(spec, names, alternative):
    """{name: function} of the spec's file run under jax.numpy; a LoadError that names the file otherwise."""
    from .loader import LoadError

    where, _ = split(spec)
    path = where if where.endswith(".py") or "/" in where else _module_file(where)
    try:
        return jaxnumpy.load(path, names), path
    except Exception as exc:
        raise LoadError(jaxnumpy.advice(exc, path, alternative)) from None


def _module_file(module_name):
    import importlib.util

    from .loader import LoadError

    found = importlib.util.find_spec(module_name)
    if found is None or not found.origin or not found.origin.endswith(".py"):
        raise LoadError(f"cannot find the source file of module {module_name!r}, to run it with jax.numpy")
    return found.origin


def _argument_names(function):
    import inspect

    try:
        return [p.name for p in inspect.signature(function).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return []


def _resolve(spec):
    """A function from its spec string ("file.py:name", "module:name"), or the function itself."""
    return load(spec)[0] if isinstance(spec, str) else spec


def reference_roles(mode, specs):
    """The reference worker's functions: sample, reference, witness, and the names of forward's arguments.

    specs: {"sample", "loss" or "forward", optionally "reference"}, as spec strings or functions.
    """
    sample, numpy_fn = _resolve(specs["sample"]), _resolve(specs[mode if mode == "loss" else "forward"])
    function_name = numpy_fn.__name__
    spec = specs["loss" if mode == "loss" else "forward"]
    alternative = "; or pass a loss written in JAX with --reference" if mode == "loss" else ""
    path = None
    if mode == "loss" and specs.get("reference"):
        jax_fn = _resolve(specs["reference"])
    else:
        if not isinstance(spec, str):
            import inspect

            spec = f"{inspect.getsourcefile(numpy_fn)}:{function_name}"
        functions, path = _jax_numpy(spec, [function_name], alternative)
        jax_fn = functions[function_name]
    names = _argument_names(numpy_fn)
    roles = {"sample": _Sampler(sample, ("params", "data") if mode == "loss" else names),
             "witness": _Witness(numpy_fn, mode)}
    roles["reference"] = _LossReference(jax_fn, path, alternative) if mode == "loss" else \
        _LayerReference(jax_fn, names, path)
    return roles, names


# ---- the candidate's worker ----


class _LayerCandidate:
    """forward(*inputs) for the cache, then backward(dout, cache): one gradient per float-array input."""

    def __init__(self, forward, backward, names):
        self.forward, self.backward, self.names = forward, backward, names

    def __call__(self, dout, *inputs):
        # The forward may update its settings in place (batch normalisation's running averages): it gets
        # copies of them, so that only its array inputs, which it must not change, are watched.
        result = self.forward(*(copy.deepcopy(x) if isinstance(x, (dict, list)) else x for x in inputs))
        cache = result[1] if isinstance(result, tuple) and len(result) == 2 else tuple(inputs)
        grads = self.backward(dout, cache)
        names = [input_name(self.names, i) for i, x in enumerate(inputs) if _floats(x)]
        if not isinstance(grads, (tuple, list)):
            grads = (grads,)
        if len(grads) != len(names):
            raise TypeError(f"backward returned {len(grads)} gradients; forward has {len(names)} float-array "
                            f"inputs ({', '.join(names)}), one gradient each, in order")
        return dict(zip(names, grads))


def candidate_roles(mode, specs):
    """The candidate worker's one function: the grad, or forward then backward."""
    if mode == "loss":
        return {"candidate": _resolve(specs["candidate"])}
    forward = _resolve(specs["forward"])
    return {"candidate": _LayerCandidate(forward, _resolve(specs["candidate"]), _argument_names(forward))}


# ---- gradcheck's process: the cases, and what a sample must be ----


@dataclass(frozen=True)
class SampledCase:
    """One case of a user's sampler: its index, seed and what came, for the report."""

    index: int
    seed: tuple
    shapes: tuple  # (name, shape) of every array, params and data (or inputs)
    N: int | None  # the batch size: the leading axis of the first data array

    @property
    def dims(self):
        return {"N": self.N} if self.N else {}

    @property
    def features(self):
        return {"a batch of one example": self.N == 1}

    def describe(self):
        shapes = ", ".join(f"{name} {tuple(shape)}" for name, shape in self.shapes)
        return f"case {self.index} ({shapes})"

    def to_json(self):
        return {"index": self.index, "seed": list(self.seed), "N": self.N,
                "shapes": {name: list(shape) for name, shape in self.shapes}}


class SampleError(ValueError):
    """What the sampler returned is not what the mode needs; the message says what came."""


def _what(value):
    from .isolation import what

    return what(value)


def _cast(value, dtype):
    return value.astype(dtype) if _floats(value) else value


def _check_finite(name, array):
    if not np.all(np.isfinite(array)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise SampleError(f"sample returned a non-finite {name}: {array[bad]} at {bad}")


def checked_sample(mode, value, dtype, names=()):
    """(what the candidate gets, the differentiable arrays by name, the batch size N), dtype applied.

    loss mode: value = (params, data); layer mode: value = the forward's inputs.
    """
    if mode == "loss":
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise SampleError(f"sample(rng) must return (params, data); got {_what(value)}")
        params, data = value
        if not isinstance(params, dict) or not params:
            raise SampleError(f"sample's params must be a non-empty dict of float arrays; got {_what(params)}")
        for name, p in params.items():
            if not _floats(p):
                raise SampleError(f"sample's params[{name!r}] must be a float array (0-d allowed); got "
                                  f"{_what(p)}" + (f" of dtype {p.dtype}" if isinstance(p, np.ndarray) else ""))
            _check_finite(f"params[{name!r}]", p)
        if not isinstance(data, (tuple, list)):
            raise SampleError(f"sample's data must be a tuple of the arguments after params; got {_what(data)} "
                              "(return (params, (X, y)))")
        params = {k: v.astype(dtype) for k, v in params.items()}
        data = tuple(_cast(d, dtype) for d in data)
        for i, d in enumerate(data):
            if _floats(d):
                _check_finite(f"data[{i}]", d)
        arrays = [d for d in data if isinstance(d, np.ndarray) and d.ndim]
        return (params, data), params, (arrays[0].shape[0] if arrays else None)
    inputs = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    floats = {input_name(names, i): _cast(x, dtype) for i, x in enumerate(inputs) if _floats(x)}
    if not floats:
        raise SampleError(f"sample(rng) must return the forward's inputs, at least one of them a float array; got "
                          f"{_what(value)}")
    for name, x in floats.items():
        _check_finite(name, x)
    inputs = tuple(_cast(x, dtype) for x in inputs)
    leading = [x for x in inputs if isinstance(x, np.ndarray) and x.ndim]
    return inputs, floats, leading[0].shape[0] if leading else None


def shapes_of(mode, sample_value, names=()):
    if mode == "loss":
        params, data = sample_value
        named = [*params.items(), *((f"data[{i}]", d) for i, d in enumerate(data))]
    else:
        named = [(input_name(names, i), x) for i, x in enumerate(sample_value)]
    return tuple((name, tuple(np.shape(x))) for name, x in named if isinstance(x, np.ndarray))


def decode(outcome):
    """The Tree a worker role returned."""
    return values.decode(outcome.tree, [outcome.value[f"#{i}"] for i in range(len(outcome.value))])


def is_scalar(J):
    return isinstance(J, numbers.Real) or np.ndim(J) == 0
