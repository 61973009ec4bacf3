"""Loading a function named as path/to/file.py:function or package.module:function."""

import importlib
import importlib.util
import sys
from pathlib import Path

from ..errors import LoadError, MissingFunction


def split(spec):
    """(where, function name) of a spec, checked for form only: nothing is imported."""
    where, colon, function_name = spec.rpartition(":")
    if not colon or not where or not function_name:
        raise LoadError(f"expected path/to/file.py:function or package.module:function, got {spec!r}")
    return where, function_name


def is_file_spec(where):
    return where.endswith(".py") or "/" in where or "\\" in where


def check_form(spec):
    """Refuses a spec that cannot name a function, or names a file that is not there, without importing it."""
    where, _ = split(spec)
    if is_file_spec(where) and not Path(where).is_file():
        raise LoadError(f"no such file: {where}")


def package_root(path):
    """(the folder `python` would be started from to import the file, the file's module name): for a file inside
    packages (folders with __init__.py, as a course assignment's cs231n/layers.py), the folder above the
    outermost and "cs231n.layers"; for a lone file, its own folder and its stem."""
    path = Path(path).resolve()
    root, parts = path.parent, [path.stem]
    while (root / "__init__.py").is_file():
        parts.insert(0, root.name)
        root = root.parent
    return root, ".".join(parts)


def _import_file(where):
    path = Path(where).resolve()
    root, dotted = package_root(path)
    if "." in dotted:  # inside a package: imported as python would from its root, its own imports working too
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        return importlib.import_module(dotted)
    module_name = f"gradcheck_candidate_{path.stem}_{abs(hash(str(path)))}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    # As for a script, the file's folder is importable, so it can use its neighbours.
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def _import_module(where, function_name):
    try:
        return importlib.import_module(where)
    except ModuleNotFoundError as exc:
        message = f"cannot import module {where!r}: {exc}"
        neighbour = Path(*where.split(".")).with_suffix(".py")
        if exc.name == where.split(".")[0] and neighbour.is_file():
            message += f"; {neighbour} is in this folder: did you mean {neighbour}:{function_name}?"
        raise LoadError(message) from None


def load(spec):
    """Returns (the function, its module) for `spec`.

    Whatever importing the module does, raising or calling sys.exit included,
    comes back as a LoadError.
    """
    where, function_name = split(spec)
    check_form(spec)
    try:
        module = _import_file(where) if is_file_spec(where) else _import_module(where, function_name)
    except LoadError:
        raise
    except KeyboardInterrupt:
        raise
    except SystemExit as exc:
        raise LoadError(f"importing {where} called sys.exit({exc.code!r})") from None
    except BaseException as exc:
        raise LoadError(f"importing {where} raised {type(exc).__name__}: {exc}") from None
    return attribute(module, where, function_name), module


def attribute(module, where, name):
    """module.name, which must be callable; a dotted name (TwoLayerNet.loss) is looked up part by part."""
    function = module
    for part in name.split("."):
        function = getattr(function, part, None)
    if function is None:
        raise MissingFunction(f"{where} has no function {name!r}")
    if not callable(function):
        raise LoadError(f"{where}:{name} is a {type(function).__name__}, not a function")
    return function


def name_of(function):
    """How a report names a function: its spec as given, or module.qualified_name."""
    if isinstance(function, str):
        return function
    return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', repr(function))}"
