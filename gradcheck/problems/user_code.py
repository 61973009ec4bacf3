"""The user's code in the reference's worker: the loss and layer modes' sampler, NumPy function, its autodiff
(the user's module run with jax.numpy, isolation.jaxnumpy) and its finite differences.

The worker keeps the case it drew: gradcheck's process gets the checked sample once, to hand to the
candidate, and asks for the reference, the witness and the kinks of that case without sending it back.
Everything here runs in that worker (or in gradcheck's process, for functions given to the library API):
nothing the user's code does can reach the candidate's process.
"""

import contextlib
import copy
import numbers
import time

import numpy as np

from .. import cache
from ..errors import LoadError, NotTraceable, SetupError, UserCodeError
from ..isolation import jaxnumpy
from ..isolation.loader import load, split
from ..isolation.process import user_line
from ..isolation.values import Tree
from ..pipeline.witness import Witness
from . import memo


# Cases per program of a plan: its compile time grows with its cases (80 cases of softmax regression in programs
# of 10, 20, 40 or 80: 4.5 s, 5.1 s, 5.3 s, 5.0 s), each saving XLA's fixed cost per program.
PLANNED = 20


def floats(value):
    """Whether a value is differentiated: a float array."""
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def input_name(names, i):
    """The forward's name for its i-th input, from its signature."""
    return names[i] if i < len(names) else f"input {i}"


def as_float64(value):
    return value.astype(np.float64) if floats(value) else value


def jax_value(value):
    """Arrays as JAX arrays (so that jax.numpy's .at works on them), anything else as it is. device_put copies;
    jnp.asarray would compile a conversion for every new shape (measured: 60% of a 20-case loss-mode run)."""
    import jax

    return jax.device_put(value) if isinstance(value, np.ndarray) else value


def to_numpy(tree):
    import jax

    return jax.tree.map(np.asarray, tree)


def traced(value):
    """Arrays and Python floats are traced; ints, bools, strings and tuples stay static, as NumPy sees them (a
    stride, the `reps` of np.tile, a group count that reshapes), each value compiled apart."""
    return isinstance(value, np.ndarray) or (isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral))


def _run_numpy(function, args):
    try:
        return function(*copy.deepcopy(args))
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise UserCodeError(f"raised {type(exc).__name__}: {message} (at {user_line(exc.__traceback__.tb_next)}), "
                            "run with NumPy before any autodiff") from None


# Two runs of one function on one input differ, if at all, as a threaded library's sums in another order do: by
# a few units of rounding of the largest value, in the values' own dtype (a float32 loss: 1e-9 of it is below one
# ulp). A draw of np.random differs by the values' own size.
SAME_ULPS = 64


def same(a, b, ulps=SAME_ULPS):
    """Whether two results of one function on one input are the same values, to `ulps` units of rounding of the
    largest (0: to the bit, inf and nan included)."""
    if isinstance(a, tuple) or isinstance(b, tuple):
        return isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) and \
            all(same(x, y, ulps) for x, y in zip(a, b))
    try:
        a, b = np.asarray(a), np.asarray(b)
        eps = max((np.finfo(x.dtype).eps for x in (a, b) if np.issubdtype(x.dtype, np.floating)),
                  default=np.finfo(np.float64).eps)
        a, b = a.astype(np.float64), b.astype(np.float64)
    except (TypeError, ValueError):  # not numbers (None, a string): what checks them later says so
        return True
    if a.shape != b.shape:
        return False
    scale = float(np.max(np.abs(np.concatenate([a[np.isfinite(a)], b[np.isfinite(b)]])), initial=0))
    with np.errstate(invalid="ignore"):  # inf − inf: the same inf, which == says
        close = np.abs(a - b) <= ulps * eps * scale
    return bool(np.all((a == b) | close | (np.isnan(a) & np.isnan(b))))


def numpy_first(function, args, returns_scalar, value=lambda result: result):
    """The user's function run as it is, with NumPy, before anything is traced: its own errors (a sample that
    does not fit the loss) are said as its own, not as jax.numpy's; so is a None where its value belongs. Run twice: a function whose `value` differs
    between two calls on the same inputs (np.random with no seed) is no one function to differentiate, and the
    candidate's own call would draw yet another: it is said so, rather than judged against a third draw."""
    result = _run_numpy(function, args)
    values = value(result) if isinstance(value(result), tuple) else (value(result),)
    if any(v is None for v in values):  # a course's stub: `out = None … return out, cache`
        raise UserCodeError("returned None for its output, run with NumPy: is it written yet?")
    if returns_scalar and np.ndim(result) != 0:
        raise UserCodeError(f"must return a scalar: it returned {np.ndim(result)}-d values of shape "
                            f"{np.shape(result)}, run with NumPy")
    if not same(value(result), value(_run_numpy(function, args))):
        raise UserCodeError("returns other values each time it is called with the same inputs, run with NumPy "
                            "(np.random with no seed?): there is no one function to differentiate; seed it from "
                            "its inputs, as a dropout layer does with dropout_param['seed']")
    return result


def untraceable_errors():
    """Errors of code that runs in NumPy and eagerly in JAX, but not under jax.jit: Python control flow on
    values, boolean masks, conversions to Python numbers."""
    import jax

    return tuple(getattr(jax.errors, name) for name in (
        "ConcretizationTypeError", "TracerBoolConversionError", "TracerIntegerConversionError",
        "NonConcreteBooleanIndexError", "TracerArrayConversionError") if hasattr(jax.errors, name))


class Compiled:
    """jax.jit executables by the shapes and dtypes of their arguments, compiled ahead of the call so that the
    time spent compiling is measured apart from the time spent running. A user's small arrays, a new shape in
    every case: each is compiled with XLA's fast-compile options (jax_reference.fast_compile)."""

    def __init__(self):
        self.executables, self.shapes, self.compile_s, self.run_s = {}, {}, 0.0, 0.0

    @staticmethod
    def signature(key, args):
        import jax

        return key, str(jax.tree.map(lambda a: (np.shape(a), str(getattr(a, "dtype", type(a).__name__))), args))

    def shape(self, key, function, *args):
        """jax.eval_shape(function, *args), traced once per signature: a naive loop's trace is what costs, and a
        layer's cases may share their shapes."""
        import jax

        signature = self.signature(key, args)
        if signature not in self.shapes:
            start = time.perf_counter()
            self.shapes[signature] = jax.eval_shape(function, *args)
            self.compile_s += time.perf_counter() - start
        return self.shapes[signature]

    def __call__(self, key, function, *args):
        import jax

        from jax_reference import fast_compile

        signature = self.signature(key, args)
        if signature not in self.executables:
            start = time.perf_counter()
            self.executables[signature] = fast_compile.compile(jax.jit(function).lower(*args))
            self.compile_s += time.perf_counter() - start
        start = time.perf_counter()
        result = jax.block_until_ready(self.executables[signature](*args))
        self.run_s += time.perf_counter() - start
        return result

    def timing(self, eager):
        return {"compile_s": self.compile_s, "run_s": self.run_s, "eager": eager}


@contextlib.contextmanager
def reference_config():
    """x64, so that float64 stays float64; full-precision matrix products, which a GPU's default (TF32 for
    float32) is not, and the float32 tolerance assumes."""
    import jax

    with jax.enable_x64(True), jax.default_matmul_precision("highest"):
        yield


def not_traceable(exc, path, alternative):
    """NotTraceable for an error autodiff of the user's code raised: where, and what to write instead."""
    if path is None:  # a loss written in JAX: its own error, as it is
        return NotTraceable(f"{type(exc).__name__}: {exc}")
    if "scalar-output" in str(exc):
        return NotTraceable(f"must return a scalar: {str(exc).strip().splitlines()[0]}")
    return NotTraceable(jaxnumpy.advice(exc, path, alternative))


def resolve(spec):
    """A function from its spec string ("file.py:name", "module:name"), or the function itself."""
    return load(spec)[0] if isinstance(spec, str) else spec


def argument_names(function):
    import inspect

    try:
        return [p.name for p in inspect.signature(function).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return []


def required(function):
    """The positional arguments that have no default."""
    import inspect

    return [p.name for p in inspect.signature(function).parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _module_file(module_name):
    import importlib.util

    found = importlib.util.find_spec(module_name)
    if found is None or not found.origin or not found.origin.endswith(".py"):
        raise LoadError(f"cannot find the source file of module {module_name!r}, to run it with jax.numpy")
    return found.origin


def under_jax_numpy(spec, function, alternative):
    """(the function of the spec's file run under jax.numpy, the file's path); a LoadError that names the file
    otherwise. spec may be None where `function` is given as a function. Where an earlier run's references are
    kept (memo.warm), the file is rewritten, and JAX imported, only when a reference is computed (Later)."""
    import inspect

    name = function.__name__
    where = split(spec)[0] if spec else inspect.getsourcefile(function)
    path = where if where.endswith(".py") or "/" in where else _module_file(where)

    def load():
        try:
            return jaxnumpy.load(path, [name])[name]
        except Exception as exc:
            raise LoadError(jaxnumpy.advice(exc, path, alternative)) from None

    if memo.warm():
        later = Later(load)
        memo.current().deferred.append(later)
        return later, path
    return load(), path


class Later:
    """A function (or class) of the user's run under jax.numpy, rewritten when `jax_ready` asks: a run whose every
    reference is kept imports no JAX."""

    def __init__(self, load):
        self.load, self.function = load, None

    def realize(self):
        if self.function is None:
            self.function = self.load()

    def __call__(self, *args, **kwargs):
        self.realize()
        return self.function(*args, **kwargs)


def jax_ready():
    """Before anything is computed with JAX: the user's code rewritten for it where that waited (NotTraceable,
    which names the line, where it cannot be), and JAX's compilation cache on (gradcheck.cache), as the worker
    would have at the start had nothing been kept."""
    store = memo.current()
    if store is not None:
        while store.deferred:
            try:
                store.deferred[0].realize()
            except LoadError as exc:
                raise NotTraceable(str(exc)) from None
            store.deferred.pop(0)
        cache.enable(str(store.folder.parent))


# ---- what a sample must be ----


def cast(value, dtype):
    """A float array in `dtype` where one is given; anything else as it is."""
    return value.astype(dtype) if floats(value) and dtype is not None else value


def _check_dtype(name, array, dtype):
    if dtype is None and array.dtype not in (np.float32, np.float64):
        raise SetupError(f"sample's {name} is {array.dtype}: gradcheck compares float32 or float64 (--dtype "
                         "float32 or float64 casts the sample)")


def check_finite(name, array):
    if not np.all(np.isfinite(array)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise SetupError(f"sample returned a non-finite {name}: {array[bad]} at {bad}")


def check_floats(named, dtype):
    """The differentiated arrays, each finite and float32 or float64 (or cast to `dtype`)."""
    for name, x in named.items():
        check_finite(name, x)
        _check_dtype(name, x, dtype)
    return {name: cast(x, dtype) for name, x in named.items()}


class UserSide:
    """The reference worker's roles: the sampler, the reference, the witness and the kinks of the case drawn
    last. A mode (problems.loss, problems.layer) says how a sample is checked, how its reference is computed
    and what its scalar function F is.

    labels: how to name the sample's top-level items in a message.
    """

    labels = ()

    def __init__(self, sampler, numpy_fn):
        self.sampler, self.numpy_fn = sampler, numpy_fn
        self.value = self.point = self.rest = self.grads = self.witness_ = self.seed = None
        # By seed, from `plan`: the sampler's value, the NumPy function's value there, the reference.
        self.drawn, self.checks, self.planned = {}, {}, {}

    def roles(self):
        return {"sample": self.sample, "reference": self.reference, "witness": self.witness, "kinks": self.kinks,
                "plan": self.plan}

    # A mode's side says what a case is made of and computes (problems.loss, problems.layer):
    #   case_of(value, seed)   what its reference is computed from, for its key (memo)
    #   numpy_value(value)     the user's NumPy function run at it (numpy_first), the check of a kept reference,
    #                          in `checks` by seed until the case's reference is had
    #   program(value, seed)   (a key for its static values, a function for JAX, its arguments,
    #                          finish(result) -> the reference)

    def plan(self, seeds, dtype):
        """The sweep's cases drawn and run with NumPy in order, and every reference not kept computed by programs
        of PLANNED cases' shapes each: XLA compiles one program of twenty small shapes in about half the time it
        takes for twenty programs of one (measured, softmax regression: 2.1–2.5 s to 1.0–1.4 s). Stops at the
        first case that fails, and leaves whatever fails to the case's own calls, in its turn; a program that
        cannot be traced leaves every case from it on to its own (eager, where it must be)."""
        batch, keys = [], {}
        for seed in map(tuple, seeds):
            try:
                self.drawn[seed] = self.sampler(np.random.default_rng(list(seed)))
                value, _ = self.checked(self.drawn[seed], dtype)
                self.checks[seed] = self.numpy_value(value)
            except (Exception, SystemExit):  # noqa: BLE001 — said by `sample` or `reference`, in its turn
                break
            keys[seed], kept = self._kept(value, seed)
            if kept is not None:
                self.planned[seed] = kept
            else:
                batch.append((seed, value))
        with contextlib.suppress(Exception, SystemExit):  # the cases compute their own, and say what fails
            for start in range(0, len(batch), PLANNED):
                computed = self._all_at_once(batch[start:start + PLANNED])
                for seed, reference in computed.items():
                    self._keep(keys[seed], seed, reference)
                self.planned.update(computed)
        return Tree(None)

    def _all_at_once(self, batch):
        """{seed: the reference} of the (seed, sample)s in `batch` whose shapes no other case of it has, by one
        program. Cases that share their shapes (a naive loop's fixed shape) are left to their own calls, which
        trace and compile their shapes once for them all."""
        import jax

        from jax_reference import fast_compile

        jax_ready()
        with reference_config():
            programs = {seed: self.program(value, seed) for seed, value in batch}
            signatures = [Compiled.signature(key, arguments) for key, _, arguments, _ in programs.values()]
            alone = [seed for seed, s in zip(programs, signatures) if signatures.count(s) == 1]
            if not alone:
                return {}
            functions = [programs[seed][1] for seed in alone]
            arguments = [programs[seed][2] for seed in alone]
            start = time.perf_counter()
            executable = fast_compile.compile(jax.jit(
                lambda *cases: [f(*a) for f, a in zip(functions, cases)]).lower(*arguments))
            self.compiled.compile_s += time.perf_counter() - start
            start = time.perf_counter()
            results = jax.block_until_ready(executable(*arguments))
            self.compiled.run_s += time.perf_counter() - start
        return {seed: programs[seed][3](result) for seed, result in zip(alone, results)}

    def sample(self, seed, dtype):
        """The case's sample, checked (and cast to `dtype` where it is not None), kept for the calls after."""
        self.seed = tuple(seed)
        value = self.drawn.pop(self.seed) if self.seed in self.drawn else \
            self.sampler(np.random.default_rng(list(seed)))
        self.value, self.point = self.checked(value, dtype)
        return Tree(self.value, self.labels)

    def reply(self, **fields):
        """The reference's reply: `fields`, the time spent, and what was said of the cache (for gradcheck's
        process to say: this worker's stderr is the user's code's)."""
        return Tree({**fields, "timing": self.compiled.timing(self.eager), "said": list(cache.SAID)})

    def remembered(self, compute):
        """The case drawn last's reference (dicts, tuples and arrays): the plan's, or what an earlier run kept of
        it (memo), or compute()'s, kept then. The user's NumPy function is run at the case first, where the plan
        has not run it: every case's is, kept or not (numpy_first), and its value checks a kept reference."""
        if self.seed not in self.checks:
            self.checks[self.seed] = self.numpy_value(self.value)
        if self.seed in self.planned:
            reference = self.planned.pop(self.seed)
        else:
            key, reference = self._kept(self.value, self.seed)
            if reference is None:
                reference = compute()
                self._keep(key, self.seed, reference)
        del self.checks[self.seed]
        return reference

    def _kept(self, value, seed):
        """(the case's key, or None where nothing is kept; its reference where an earlier run kept it and the user's
        NumPy function still has the value kept with it there, else None)."""
        store = memo.current()
        key = store.key(self.case_of(value, seed)) if store else None
        kept = store.get(key) if key else None
        # To the bit: a value that moved at all may be another function's (a data file edited), and the reference
        # is computed again; the cost of a miss is a compilation, of a stale reference a wrong verdict.
        return key, kept[1] if kept is not None and same(kept[0], self.checks[seed], ulps=0) else None

    def _keep(self, key, seed, reference):
        if key:
            memo.current().put(key, self.checks[seed], reference)

    def witness(self, candidate, seed):
        """Finite differences around the case's point (see pipeline.witness), in float64."""
        self.witness_ = Witness(self.scalar, self.point, entries=1, taylor=True)
        return Tree(self.witness_.check(self.grads, candidate, np.random.default_rng(list(seed))))

    def kinks(self, probes):
        return Tree(self.witness_.kinks(probes))
