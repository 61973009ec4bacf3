"""A user's NumPy code run with jax.numpy in NumPy's place: the reference of gradcheck's loss and layer modes.

The module's source is executed once more, as a module of its own, with every
`import numpy` (`import numpy as np`, `from numpy import exp`,
`from numpy.linalg import norm`) answered by a stand-in whose functions run as
NumPy on NumPy's values and as jax.numpy where an argument is a JAX array
(`_Either`): what does not depend on the differentiated values (a shape, an
index array, np.random's mask, a module-level constant such as
`C = np.sqrt(2 / np.pi)`) is NumPy's own and enters the trace as a constant.
What jax.numpy lacks (np.random, np.lib) stays NumPy's, and says so when given
a JAX array. The modules the file imports from its own folder
(`from helpers import logsumexp`) are rewritten the same way; module-level code
runs with float64 on. First, the in-place idioms jax.numpy cannot
run are rewritten into their functional form, with NumPy's semantics:

    x[i] = v             ->  x = __set(x, i, v)          (in place still, for lists and dicts; a naive loop's
                                                      scalars written entry by entry kept as isolation.entries
                                                      until the array is used: one scatter, not one each)
    t[i][j] = v          ->  t = __set(t, i, __set(t[i], j, v))
    h[:, k], c = step()  ->  values = tuple(step()); h = __set(h, (:, k), values[0]); c = values[1]
    x[i] += v  (-= *= /= **=)  ->  x = __set(x, i, x[i] + v)   NumPy's buffered update: where an index
                                                              repeats, the last write wins, as in NumPy
    np.add.at(x, i, v)   ->  x = np.add.at(x, i, v, inplace=False)   (and the other ufuncs' .at: unbuffered)

What still cannot run is explained by `advice`: the file and line, and the
functional rewrite. The reference is compiled with jax.jit where the code can
be traced, and runs eagerly where it cannot (Python `if` on an array value).
"""

import ast
import builtins
import functools
import importlib.util
import linecache
import operator
import traceback
import types
from pathlib import Path

from .entries import Entries, concrete, entry

_INDEX = "__gradcheck_index__"
_VALUES = "__gradcheck_values__"
_SET = "__gradcheck_set__"
_UPDATE = "__gradcheck_update__"
_UPDATES = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide", ast.Pow: "power"}
_OPERATORS = {"add": operator.add, "subtract": operator.sub, "multiply": operator.mul, "divide": operator.truediv,
              "power": operator.pow}


def _index(index):
    """An index as NumPy takes it, for JAX too: a range (`scores[range(N), y]`) becomes the array it stands for."""
    if isinstance(index, Entries):
        return index.array()
    if isinstance(index, range):
        import numpy as np

        return np.arange(index.start, index.stop, index.step)
    if isinstance(index, tuple):
        return tuple(_index(part) for part in index)
    return index


def _may_repeat(index):
    """Whether an index can name one entry twice: only an integer array of one or more dimensions can."""
    import numpy as np

    parts = index if isinstance(index, tuple) else (index,)
    return any(np.ndim(part) > 0 and np.asarray(part).dtype != bool if not hasattr(part, "aval") else
               part.ndim > 0 and part.dtype != bool for part in parts
               if not isinstance(part, (int, slice, type(None), type(Ellipsis))))


def _set(array, index, value):
    """array[index] = value, as NumPy does it. A JAX array is replaced, not changed; where an integer array
    names an entry twice, the last write wins, as in NumPy (JAX's own .at[].set leaves that order undefined).
    A NumPy array that is given a traced value becomes a JAX array; one given traced scalars entry by entry (a
    naive loop) keeps them as Entries until it is used, and becomes a JAX array then, in one scatter."""
    index, value = _index(index), concrete(value)
    if isinstance(array, Entries) or _traced(value):
        entries = Entries.written(array, index, value)
        if entries is not None:
            return entries
        array = concrete(array)
    if not hasattr(array, "at") and not (hasattr(array, "__array__") and _traced(value)):
        array[index] = value  # a list, a dict, a NumPy array of NumPy values: as the original code does
        return array
    import jax.numpy as jnp

    array = jnp.asarray(array)
    mask = _mask(array, index, value)
    if mask is not None:
        return jnp.where(mask, value, array).astype(array.dtype)  # NumPy casts what it writes to x's dtype
    if not _may_repeat(index):
        return array.at[index].set(jnp.asarray(value).astype(array.dtype))  # NumPy casts what it writes
    targets = jnp.arange(array.size).reshape(array.shape)[index].ravel()  # the flat entry each write goes to
    writes = jnp.broadcast_to(jnp.asarray(value), array[index].shape).astype(array.dtype).ravel()
    order = jnp.arange(targets.size)
    last = jnp.zeros(array.size, order.dtype).at[targets].max(order)[targets] == order
    # Every write but the last to its entry is sent out of bounds, and dropped.
    return array.ravel().at[jnp.where(last, targets, array.size)].set(writes, mode="drop").reshape(array.shape)


def _mask(array, index, value):
    """For x[mask] = v, where v is the same for every entry the mask picks (a scalar, or a row where the mask picks
    rows): the mask, shaped to broadcast as jnp.where(mask, v, x), which computes it with a mask that depends on
    traced values (x[x < 0] = 0), as jax.jit cannot index with one. None for any other write."""
    import numpy as np

    if not (hasattr(index, "dtype") and index.dtype == bool and 0 < index.ndim <= array.ndim
            and tuple(index.shape) == tuple(array.shape[:index.ndim]) and np.ndim(value) <= array.ndim - index.ndim):
        return None
    return index.reshape(tuple(index.shape) + (1,) * (array.ndim - index.ndim))


def _update(array, index, op, value):
    """array[index] op= value, as NumPy does it: array[index] = array[index] op value (buffered: where an index
    repeats, the last write wins; np.add.at is the unbuffered form)."""
    index = _index(index)
    if isinstance(array, Entries):
        if entry(index, array.shape) is not None:  # one entry: read it, write it back
            return _set(array, index, _OPERATORS[op](array[index], concrete(value)))
        array = array.array()
    if hasattr(array, "at") or _traced(value) or _traced(index):
        import jax.numpy as jnp

        array = jnp.asarray(array)
        mask = _mask(array, index, value)
        if mask is not None:
            return jnp.where(mask, _OPERATORS[op](array, value), array).astype(array.dtype)
    return _set(array, index, _OPERATORS[op](array[index], value))


def _index_expression(node):
    """An index as an expression: slices inside a subscript become slice(…) calls."""
    if isinstance(node, ast.Slice):
        return ast.Call(ast.Name("slice", ast.Load()), [
            part if part is not None else ast.Constant(None) for part in (node.lower, node.upper, node.step)], [])
    if isinstance(node, ast.Tuple):
        return ast.Tuple([_index_expression(e) for e in node.elts], ast.Load())
    return node


def _rooted(target):
    """Whether an assignment's target is an item of a name's item … of a name: x[i], t[i][j]."""
    while isinstance(target, ast.Subscript):
        target = target.value
        if isinstance(target, ast.Name):
            return True
    return False


def _loaded(node):
    """The expression `node` reads, where the source wrote to it: t[i] of t[i][j] = v (its index passed through
    `_index` already, as every index read is)."""
    if isinstance(node, ast.Name):
        return ast.Name(node.id, ast.Load())
    return ast.Subscript(_loaded(node.value), node.slice, ast.Load())


def _assignment(target, value):
    """x[i] = v as x = set(x, i, v); t[i][j] = v as t = set(t, i, set(t[i], j, v)), from the innermost out."""
    while isinstance(target, ast.Subscript):
        value = ast.Call(ast.Name(_SET, ast.Load()), [_loaded(target.value), _index_expression(target.slice), value], [])
        target = target.value
    return ast.Assign([ast.Name(target.id, ast.Store())], value)


class _Functional(ast.NodeTransformer):
    """Rewrites in-place writes into a name's items, and ufunc.at calls, into assignments; and passes every
    index through `_index`."""

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):
            node.slice = ast.Call(ast.Name(_INDEX, ast.Load()), [_index_expression(node.slice)], [])
        return node

    def visit_Assign(self, node):
        self.generic_visit(node)
        if len(node.targets) != 1:
            return node
        target = node.targets[0]
        if _rooted(target):
            return ast.copy_location(_assignment(target, node.value), node)
        if isinstance(target, ast.Tuple) and any(_rooted(t) for t in target.elts) \
                and not any(isinstance(t, ast.Starred) for t in target.elts):
            # h[:, t, :], cache = step(...): the value once, then each item to its place.
            values = [ast.Assign([ast.Name(_VALUES, ast.Store())],
                                 ast.Call(ast.Name("tuple", ast.Load()), [node.value], []))]
            for i, part in enumerate(target.elts):
                item = ast.Subscript(ast.Name(_VALUES, ast.Load()), ast.Constant(i), ast.Load())
                values.append(_assignment(part, item) if _rooted(part) else ast.Assign([part], item))
            return [ast.copy_location(statement, node) for statement in values]
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        if isinstance(node.target, ast.Subscript) and isinstance(node.target.value, ast.Name) \
                and type(node.op) in _UPDATES:
            name = node.target.value.id
            call = ast.Call(ast.Name(_UPDATE, ast.Load()), [
                ast.Name(name, ast.Load()), _index_expression(node.target.slice),
                ast.Constant(_UPDATES[type(node.op)]), node.value], [])
            return ast.copy_location(ast.Assign([ast.Name(name, ast.Store())], call), node)
        return node

    def visit_Expr(self, node):
        self.generic_visit(node)
        call = node.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "at" \
                and isinstance(call.func.value, ast.Attribute) and call.args \
                and isinstance(call.args[0], ast.Name):
            call.keywords.append(ast.keyword("inplace", ast.Constant(False)))
            return ast.copy_location(ast.Assign([ast.Name(call.args[0].id, ast.Store())], call), node)
        return node


def _traced(value):
    """Whether a value is, or holds, a JAX array (a traced value, or the data the reference passes in)."""
    import jax

    if isinstance(value, (jax.Array, Entries)):
        return True
    if isinstance(value, (list, tuple)):
        return any(_traced(v) for v in value)
    if isinstance(value, dict):
        return any(_traced(v) for v in value.values())
    return False


class _Either:
    """A NumPy function or ufunc that runs as NumPy where none of its arguments is a JAX array, and as jax.numpy
    where one is: what does not depend on the differentiated values (a shape, an index array, np.random's
    mask, a constant) is computed by NumPy itself and enters the trace as a constant."""

    def __init__(self, real, fake):
        self.real, self.fake = real, fake

    def __call__(self, *args, **kwargs):
        if _traced(args) or _traced(kwargs):
            return self.fake(*concrete(args), **concrete(kwargs))
        return self.real(*args, **kwargs)

    def __getattr__(self, name):  # a ufunc's .at, .reduce, .outer: jax.numpy's, whose .at takes inplace=False
        return getattr(self.fake, name)


class _NumPyOnly:
    """What NumPy has and jax.numpy has not (np.random, np.lib): NumPy's own, on NumPy's values; given a JAX
    array, it says so, under the name jax.numpy lacks, rather than turn the array into a NumPy one."""

    def __init__(self, real, top):
        self.real, self.top = real, top

    def __call__(self, *args, **kwargs):
        if _traced(args) or _traced(kwargs):
            raise AttributeError(f"module 'jax.numpy' has no attribute {self.top!r}")
        return self.real(*args, **kwargs)

    def __getattr__(self, name):
        inner = getattr(self.real, name)
        return _NumPyOnly(inner, self.top) if callable(inner) or isinstance(inner, types.ModuleType) else inner


def _numpy_pad(pad):
    """jax.numpy's pad, taking NumPy's ((n,), (m,)) for ((n, n), (m, m)) as well (course code writes it so)."""
    def padded(array, pad_width, *args, **kwargs):
        if isinstance(pad_width, (tuple, list)) and pad_width and \
                all(isinstance(w, (tuple, list)) and len(w) == 1 for w in pad_width):
            pad_width = tuple((w[0], w[0]) for w in pad_width)
        return pad(array, pad_width, *args, **kwargs)

    return padded


def _stand_in(real=None, fake=None, name="numpy"):
    """numpy for the user's code: each function NumPy's or jax.numpy's by its arguments (`_Either`); modules
    jax.numpy lacks (np.random) NumPy's own; types and constants jax.numpy's."""
    import numpy
    import jax.numpy as jnp

    real, fake = real or numpy, fake or jnp
    module = types.ModuleType(name)

    def attribute(attr):
        missing = object()  # np.newaxis is None: an attribute's absence is told apart from a None
        mine, theirs = getattr(real, attr, missing), getattr(fake, attr, missing)
        if isinstance(mine, types.ModuleType) and isinstance(theirs, types.ModuleType):
            return _stand_in(mine, theirs, f"{name}.{attr}")
        if theirs is missing:
            if mine is missing:
                raise AttributeError(f"module 'jax.numpy' has no attribute {attr!r}")
            return _NumPyOnly(mine, attr) if callable(mine) or isinstance(mine, types.ModuleType) else mine
        if mine is missing or isinstance(mine, type) or not callable(mine) or not callable(theirs):
            return theirs
        return _Either(mine, _numpy_pad(theirs) if (name, attr) == ("numpy", "pad") else theirs)

    module.__getattr__ = attribute
    return module


class _Importer:
    """__import__ for the user's rewritten code: numpy is jax.numpy, and the modules of the user's own folder
    (`from helpers import logsumexp`) are rewritten as the user's file is, each run once; anything else
    (the standard library, SciPy) is imported as it is."""

    def __init__(self, root):
        self.root, self.stand_in, self.modules = root, _stand_in(), {}
        self.real = builtins.__import__

    def source(self, name):
        """The file of module `name` in the user's folder, or None."""
        path = self.root.joinpath(*name.split("."))
        return next((f for f in (path.with_suffix(".py"), path / "__init__.py") if f.is_file()), None)

    def run(self, source, name, package):
        """A module of the file `source`, rewritten and executed."""
        module = types.ModuleType(f"gradcheck_jax_numpy_{name}")
        module.__dict__.update({"__file__": str(source), "__package__": package, _INDEX: _index, _SET: _set, _UPDATE: _update,
                                "__builtins__": {**vars(builtins), "__import__": self}})
        if source.name == "__init__.py":
            module.__path__ = [str(source.parent)]
        tree = _Functional().visit(ast.parse(source.read_text(), filename=str(source)))
        ast.fix_missing_locations(tree)
        self.modules[name] = module  # before it runs: modules that import each other find it
        exec(compile(tree, str(source), "exec"), module.__dict__)
        return module

    def module(self, name):
        """The rewritten module `name` of the user's folder, run once."""
        if name not in self.modules:
            source = self.source(name)
            package = name if source.name == "__init__.py" else name.rpartition(".")[0]
            module = self.run(source, name, package)
            parent, _, child = name.rpartition(".")
            if parent:
                setattr(self.modules[parent], child, module)
        return self.modules[name]

    def __call__(self, name, globals=None, locals=None, fromlist=(), level=0):
        if level:
            name = importlib.util.resolve_name("." * level + name, (globals or {}).get("__package__") or "")
        if name == "numpy" or name.startswith("numpy."):
            module = self.stand_in
            for part in name.split(".")[1:] if fromlist else ():  # from numpy._core.multiarray import …
                module = getattr(module, part)
            return module
        parts = name.split(".")
        if not self.source(parts[0]):
            return self.real(name, globals, locals, fromlist, level)
        for i in range(1, len(parts) + 1):
            self.module(".".join(parts[:i]))
        for item in fromlist or ():
            if item != "*" and self.source(f"{name}.{item}"):
                self.module(f"{name}.{item}")
        return self.modules[name] if fromlist else self.modules[parts[0]]


def load(path, names):
    """{name: function} from the file at `path`, executed with jax.numpy for numpy and float64 on."""
    path = Path(path).resolve()
    stat = path.stat()
    module = _module(path, stat.st_mtime_ns, stat.st_size)
    return {name: _arrays_out(getattr(module, name)) for name in names}


def _arrays_out(function):
    """A user's function whose results hold JAX arrays where its code left Entries (a classes' methods are
    called by the class itself: it is returned as it is)."""
    if not isinstance(function, types.FunctionType):
        return function

    @functools.wraps(function)
    def called(*args, **kwargs):
        return concrete(function(*args, **kwargs))

    return called


@functools.lru_cache(maxsize=None)
def _module(path, mtime_ns, size):
    """The file's module, rewritten and run once per process and version of the file: a whole file's functions,
    each checked in turn (problems.course), share it, as they share one module in the candidate's process."""
    import jax

    from .loader import package_root

    root, dotted = package_root(path)
    with jax.enable_x64(True):
        importer = _Importer(root)
        package = dotted.rpartition(".")[0]
        if package:
            importer.module(package)  # its package's __init__ first, as Python imports it
        return importer.run(path, dotted, package)


def forget():
    """Every file's module forgotten: the next `load` rewrites and runs the files again."""
    _module.cache_clear()


def _user_frame(exc, root):
    """The innermost frame of the traceback in a file of the user's folder, or None."""
    from .process import is_library

    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if Path(f.filename).resolve().is_relative_to(root) and not is_library(f.filename)]
    return frames[-1] if frames else None


def advice(exc, path, alternative=""):
    """One line on why the code at `path` could not run under jax.numpy: where, and what to write instead."""
    frame = _user_frame(exc, Path(path).resolve().parent)
    line, where = "", ""
    if frame:
        line = linecache.getline(frame.filename, frame.lineno).strip()
        where = f" at {Path(frame.filename).name}:{frame.lineno} `{line}`"
    text, kind = str(exc).strip().splitlines()[0] if str(exc).strip() else "", type(exc).__name__
    converted = "arose with the `float` function" in str(exc) or "arose with the `int` function" in str(exc)
    if "item assignment" in text or "immutable" in text or "setting an array element with a sequence" in text:
        fix = "JAX arrays cannot be changed in place: write x = x.at[index].set(value) (or .add, .multiply)"
    elif kind == "AttributeError" and "jax.numpy" in text:
        fix = f"{text.split('attribute')[-1].strip()} is not in jax.numpy: write it with functions jax.numpy has"
    elif "math." in line and (converted or kind in ("TypeError", "TracerArrayConversionError")):
        fix = ("the math module works on Python numbers, so autodiff cannot follow it: write np.exp, np.log, "
               "np.sqrt … in place of math.exp, math.log, math.sqrt …")
    elif converted:
        fix = ("float() or int() of an array value makes it a Python number, which autodiff cannot follow: keep it "
               "an array (x.astype(float), or no conversion at all)")
    elif kind in ("TracerBoolConversionError", "ConcretizationTypeError"):
        fix = "Python `if` or `while` on an array value: write it with np.where(condition, a, b)"
    elif kind == "TracerArrayConversionError":
        fix = ("a function from a library that is not NumPy (SciPy, or a module outside your folder) turned the "
               "array into a NumPy array: use a jax.numpy (or jax.scipy) function in its place")
    else:
        fix = f"{kind}: {text}"
    return f"cannot run under jax.numpy{where}: {fix}{alternative}"
