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
# shows as one-sided slopes that differ by more than KINK_SLOPE of the scale ‖g‖ + |F|: the checks and the
# Taylor test along that direction are then left out.
KINK_SLOPE = 1e-3
# An entry where the candidate and the reference differ is probed for a kink at the point itself: its one-sided
# slopes, at steps FD_STEP and KINK_STEP, differ by a jump above KINK_NOISE · (‖g‖ + |F|) (rounding, at
# KINK_STEP in float64, is 1e-9 of it) that stays the same as the step shrinks (a smooth function's difference
# falls with the step, 100 times here). Only there is the derivative a convention, and the candidate's value is
# excused when it lies between the two slopes. At most MAX_PROBES entries per parameter and case are probed.
KINK_STEP = 1e-7
KINK_NOISE = 1e-6
MAX_PROBES = 500
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


class UserCodeError(Exception):
    """The user's own code (sampler, loss, forward) failed; the message says where and how."""

    located = True  # the message names the user's line: isolation.call adds no place of its own


class NotTraceable(UserCodeError):
    """The user's code cannot be differentiated as it is; the message says where and what to write instead."""


def _numpy_first(function, args, returns_scalar):
    """The user's function run as it is, with NumPy, before anything is traced: its own errors (a sample that
    does not fit the loss) are said as its own, not as jax.numpy's."""
    from .isolation import user_line

    try:
        result = function(*args)
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise UserCodeError(f"raised {type(exc).__name__}: {message} (at {user_line(exc.__traceback__.tb_next)}), "
                            "run with NumPy before any autodiff") from None
    if returns_scalar and np.ndim(result) != 0:
        raise UserCodeError(f"must return a scalar: it returned {np.ndim(result)}-d values of shape "
                            f"{np.shape(result)}, run with NumPy")


# Errors of code that runs in NumPy and eagerly in JAX, but not under jax.jit: Python control flow on values,
# boolean masks, conversions to Python numbers.
def _untraceable_errors():
    import jax

    return tuple(getattr(jax.errors, name) for name in (
        "ConcretizationTypeError", "TracerBoolConversionError", "TracerIntegerConversionError",
        "NonConcreteBooleanIndexError", "TracerArrayConversionError") if hasattr(jax.errors, name))


def _traced(value):
    """Arrays and Python floats are traced; ints, bools, strings and tuples stay static, as NumPy sees them (a
    stride, the `reps` of np.tile, a group count that reshapes), each value compiled apart."""
    return isinstance(value, np.ndarray) or (isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral))


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

    def __init__(self, numpy_loss, jax_loss, path, alternative):
        self.numpy_loss, self.jax_loss, self.path, self.alternative = numpy_loss, jax_loss, path, alternative
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

        _numpy_first(self.numpy_loss, (copy.deepcopy(params), *copy.deepcopy(data)), returns_scalar=True)
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

    def __init__(self, numpy_forward, jax_forward, names, path):
        self.numpy_forward, self.jax_forward, self.names, self.path = numpy_forward, jax_forward, names, path
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

        _numpy_first(self.numpy_forward, copy.deepcopy(inputs), returns_scalar=False)
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

    `__call__`, for each differentiable name: along a random unit direction v, and along one entry drawn at
    random, the central difference against ⟨reference, v⟩ (left out where a kink lies on the segment); and
    along v, the Taylor remainders of the candidate's and the reference's gradients at TAYLOR_STEPS.
    `kinks`: the entries where the candidate differs from the reference that lie on a kink of the function,
    where its derivative is a convention.
    """

    def __init__(self, numpy_fn, mode):
        self.numpy_fn, self.mode = numpy_fn, mode

    def _float64(self, point, rest):
        point = {k: np.asarray(v, np.float64) for k, v in point.items()}
        if self.mode == "loss":
            return point, tuple(_as_float64(d) for d in rest)
        inputs, names, dout = rest
        return point, ([_as_float64(x) for x in inputs],
                       {i: input_name(names, i) for i in range(len(inputs)) if input_name(names, i) in point},
                       np.asarray(dout, np.float64))

    def _scalar(self, point, rest):
        if self.mode == "loss":
            return float(self.numpy_fn(point, *rest))
        inputs, positions, dout = rest
        full = [copy.deepcopy(x) if isinstance(x, (dict, list)) else x for x in inputs]
        for i, name in positions.items():
            full[i] = point[name]
        return float(np.sum(dout * np.asarray(_output(self.numpy_fn(*full)), np.float64)))

    def _along(self, point, rest, name, v):
        """F(h) = the function at point + h v, v moving the parameter `name`."""
        return lambda h: self._scalar({**point, name: point[name] + h * v}, rest)

    def __call__(self, point, rest, reference, candidate, seed):
        point, rest = self._float64(point, rest)
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
            checks, kinks = [], []
            for direction in (v, entry):
                F = self._along(point, rest, name, direction)
                plus, minus = F(FD_STEP), F(-FD_STEP)
                kinks.append(bool(abs((plus - F0) - (F0 - minus)) / FD_STEP > KINK_SLOPE * scale))
                if not kinks[-1]:
                    checks.append({"fd": (plus - minus) / (2 * FD_STEP), "along": float(np.vdot(g_ref, direction))})
            F = self._along(point, rest, name, v)
            remainders = {}
            for who, g in (("reference", reference), ("candidate", candidate)):
                if g is not None and name in g and np.shape(g[name]) == point[name].shape:
                    slope = float(np.vdot(np.asarray(g[name], np.float64), v))
                    remainders[who] = [abs(F(h) - F0 - h * slope) for h in TAYLOR_STEPS]
            result[name] = {"checks": checks, "scale": scale, "kink": kinks[0], "F0": F0, "remainders": remainders}
        return Tree(result)

    def kinks(self, point, rest, probes):
        """{name: {"excused": flat indices, "probed": how many, "exhausted": MAX_PROBES reached undecided}}.

        probes: name -> {"order": flat indices, largest difference first, "gaps": |candidate − reference| there,
        "candidate": the candidate's values there, "bound": the tolerance on ‖candidate − reference‖,
        "rtol", "atol", "scale": ‖reference‖ + |F|}. Entries are probed until the ones left unprobed cannot
        change the verdict either way.
        """
        point, rest = self._float64(point, rest)
        F0 = self._scalar(point, rest)
        result = {}
        for name, p in probes.items():
            gaps = np.asarray(p["gaps"], np.float64)
            kept2, left2, excused, probed = 0.0, float(np.sum(gaps ** 2)), [], 0
            for j, gap, value in zip(p["order"], gaps, p["candidate"]):
                if np.sqrt(kept2 + left2) <= p["bound"] or np.sqrt(kept2) > p["bound"] or probed == MAX_PROBES:
                    break
                probed += 1
                left2 = max(left2 - gap ** 2, 0.0)
                if self._excused(point, rest, name, int(j), float(value), F0, p):
                    excused.append(int(j))
                else:
                    kept2 += gap ** 2
            decided = np.sqrt(kept2 + left2) <= p["bound"] or np.sqrt(kept2) > p["bound"]
            result[name] = {"excused": np.array(excused, np.int64), "probed": probed, "exhausted": not decided}
        return Tree(result)

    def _excused(self, point, rest, name, j, value, F0, p):
        """Whether entry j sits on a kink, and the candidate's value there lies between the one-sided slopes."""
        e = np.zeros(point[name].shape)
        e.flat[j] = 1.0
        F = self._along(point, rest, name, e)

        def one_sided(h):
            return (F0 - F(-h)) / h, (F(h) - F0) / h

        left1, right1 = one_sided(FD_STEP)
        left2, right2 = one_sided(KINK_STEP)
        jump1, jump2 = right1 - left1, right2 - left2
        noise = KINK_NOISE * p["scale"]
        if not abs(jump2) > noise or abs(jump1 - jump2) > abs(jump2) / 2:
            return False  # smooth there (or a step): the derivative is no convention
        margin = noise + p["rtol"] * (abs(left2) + abs(right2)) + p["atol"]
        return min(left2, right2) - margin <= value <= max(left2, right2) + margin


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
    witness = _Witness(numpy_fn, mode)
    roles = {"sample": _Sampler(sample, ("params", "data") if mode == "loss" else names),
             "witness": witness, "kinks": witness.kinks}
    roles["reference"] = _LossReference(numpy_fn, jax_fn, path, alternative) if mode == "loss" else \
        _LayerReference(numpy_fn, jax_fn, names, path)
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
    structure: tuple = ()  # what must not change from case to case (see `structure`)

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


def _kind(value):
    """A value's place in a sample's structure: float arrays and their dtype, other arrays, or the type."""
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array" if _floats(value) else f"{value.dtype.kind} array"
    return type(value).__name__


def structure(mode, value, names=()):
    """What a sample must keep from case to case: the names of the params, and the number and kinds of the data
    (or the forward's inputs). A key that some cases lack would be judged in only some of them."""
    if mode == "loss":
        params, data = value
        return (("params", tuple(params)), ("data", tuple(_kind(d) for d in data)))
    return (("inputs", tuple((input_name(names, i), _kind(x)) for i, x in enumerate(value))),)


def structure_change(first, case):
    """Words for how `case` differs in structure from the `first` case, or None."""
    for (part, was), (_, now) in zip(first.structure, case.structure):
        if was != now:
            return (f"sample() changes the structure of what it returns between cases: case {first.index} has {part} "
                    f"{_listed(was)}, case {case.index} has {part} {_listed(now)}; the cases may differ in shapes and "
                    "values only, so that every name is judged in every case")
    return None


def _listed(items):
    return ", ".join(" ".join(i) if isinstance(i, tuple) else str(i) for i in items) or "none"


def _cast(value, dtype):
    return value.astype(dtype) if _floats(value) and dtype is not None else value


def _check_dtype(name, array, dtype):
    if dtype is None and array.dtype not in (np.float32, np.float64):
        raise SampleError(f"sample's {name} is {array.dtype}: gradcheck compares float32 or float64 (--dtype "
                          "float32 or float64 casts the sample)")


def _check_finite(name, array):
    if not np.all(np.isfinite(array)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise SampleError(f"sample returned a non-finite {name}: {array[bad]} at {bad}")


def checked_sample(mode, value, dtype, names=()):
    """(what the candidate gets, the differentiable arrays by name, the batch size N), dtype applied where it
    is not None (None keeps the sample's own float32 or float64).

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
            _check_dtype(f"params[{name!r}]", p, dtype)
        if not isinstance(data, (tuple, list)):
            raise SampleError(f"sample's data must be a tuple of the arguments after params; got {_what(data)} "
                              "(return (params, (X, y)))")
        params = {k: _cast(v, dtype) for k, v in params.items()}
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
        _check_dtype(name, x, dtype)
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
