"""A user's NumPy code run with jax.numpy in NumPy's place: the reference of gradcheck's loss and layer modes.

The module's source is executed once more, as a module of its own, with every
`import numpy` (`import numpy as np`, `from numpy import exp`,
`from numpy.linalg import norm`) answered by jax.numpy, so that its helper
functions follow. First, the in-place idioms jax.numpy cannot run are
rewritten into their functional form:

    x[i] = v             ->  x = x.at[i].set(v)          (in place still, for lists and dicts)
    x[i] += v  (-= *= /= **=)  ->  x = x.at[i].add(v) …
    np.add.at(x, i, v)   ->  x = np.add.at(x, i, v, inplace=False)   (and the other ufuncs' .at)

What still cannot run is explained by `advice`: the file and line, and the
functional rewrite. The reference runs eagerly (not under jax.jit), so Python
`if` on array values works, as it does in NumPy.
"""

import ast
import builtins
import contextlib
import linecache
import sys
import traceback
import types
from pathlib import Path

_SET = "__gradcheck_set__"
_UPDATE = "__gradcheck_update__"
_UPDATES = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide", ast.Pow: "power"}


def _set(array, index, value):
    if hasattr(array, "at"):
        return array.at[index].set(value)
    array[index] = value  # a list, a dict, a NumPy array: as the original code does
    return array


def _update(array, index, op, value):
    if hasattr(array, "at"):
        at = array.at[index]
        return at.add(-value) if op == "subtract" else getattr(at, op)(value)
    current = array[index]
    array[index] = {"add": current + value, "subtract": current - value, "multiply": current * value,
                    "divide": current / value, "power": current ** value}[op]
    return array


def _index_expression(node):
    """An index as an expression: slices inside a subscript become slice(…) calls."""
    if isinstance(node, ast.Slice):
        return ast.Call(ast.Name("slice", ast.Load()), [
            part if part is not None else ast.Constant(None) for part in (node.lower, node.upper, node.step)], [])
    if isinstance(node, ast.Tuple):
        return ast.Tuple([_index_expression(e) for e in node.elts], ast.Load())
    return node


class _Functional(ast.NodeTransformer):
    """Rewrites in-place writes into a name's items, and ufunc.at calls, into assignments."""

    def visit_Assign(self, node):
        self.generic_visit(node)
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript) \
                and isinstance(node.targets[0].value, ast.Name):
            target = node.targets[0]
            call = ast.Call(ast.Name(_SET, ast.Load()), [
                ast.Name(target.value.id, ast.Load()), _index_expression(target.slice), node.value], [])
            return ast.copy_location(ast.Assign([ast.Name(target.value.id, ast.Store())], call), node)
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


def _stand_in():
    """jax.numpy under the name numpy, with the few NumPy context managers it lacks as no-ops."""
    import jax.numpy as jnp

    module = types.ModuleType("numpy")
    module.__getattr__ = lambda name: getattr(jnp, name)
    module.errstate = lambda *args, **kwargs: contextlib.nullcontext()
    module.seterr = lambda *args, **kwargs: {}
    return module


def _importer(stand_in):
    real = builtins.__import__

    def __import__(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and (name == "numpy" or name.startswith("numpy.")):
            if fromlist and name != "numpy":
                return getattr(stand_in, name.split(".", 1)[1])
            return stand_in
        return real(name, globals, locals, fromlist, level)

    return __import__


def load(path, names):
    """{name: function} from the file at `path`, executed with jax.numpy for numpy."""
    path = Path(path).resolve()
    tree = _Functional().visit(ast.parse(path.read_text(), filename=str(path)))
    ast.fix_missing_locations(tree)
    stand_in = _stand_in()
    namespace = {"__name__": f"gradcheck_jax_numpy_{path.stem}", "__file__": str(path),
                 "__builtins__": {**vars(builtins), "__import__": _importer(stand_in)},
                 _SET: _set, _UPDATE: _update}
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    exec(compile(tree, str(path), "exec"), namespace)
    return {name: namespace[name] for name in names}


def advice(exc, path, alternative=""):
    """One line on why the code at `path` could not run under jax.numpy: where, and what to write instead."""
    path = str(Path(path).resolve())
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if str(Path(f.filename).resolve()) == path]
    where = ""
    if frames:
        frame = frames[-1]
        line = linecache.getline(frame.filename, frame.lineno).strip()
        where = f" at {Path(frame.filename).name}:{frame.lineno} `{line}`"
    text, kind = str(exc).strip().splitlines()[0] if str(exc).strip() else "", type(exc).__name__
    if "item assignment" in text or "immutable" in text:
        fix = "JAX arrays cannot be changed in place: write x = x.at[index].set(value) (or .add, .multiply)"
    elif kind == "AttributeError" and "jax.numpy" in text:
        fix = f"{text.split('attribute')[-1].strip()} is not in jax.numpy: write it with functions jax.numpy has"
    elif kind in ("TracerBoolConversionError", "ConcretizationTypeError"):
        fix = "Python `if` or `while` on an array value: write it with np.where(condition, a, b)"
    elif kind == "TracerArrayConversionError":
        fix = ("a function from outside this file (SciPy, or a module it imports) turned the array into a NumPy "
               "array: use a jax.numpy (or jax.scipy) function in its place")
    else:
        fix = f"{kind}: {text}"
    return f"cannot run under jax.numpy{where}: {fix}{alternative}"
