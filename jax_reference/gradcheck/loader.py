"""Loading a candidate named as path/to/file.py:function or package.module:function."""

import importlib
import importlib.util
import sys
from pathlib import Path


class LoadError(Exception):
    """The candidate cannot be loaded; the message says why."""


def load(spec):
    """Returns (the function, its module) for `spec`."""
    where, colon, function_name = spec.rpartition(":")
    if not colon or not where or not function_name:
        raise LoadError(f"expected path/to/file.py:function or package.module:function, got {spec!r}")
    if where.endswith(".py") or "/" in where or "\\" in where:
        path = Path(where)
        if not path.is_file():
            raise LoadError(f"no such file: {where}")
        module_name = f"gradcheck_candidate_{abs(hash(str(path.resolve())))}"
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        # As for a script, the file's folder is importable, so it can use its neighbours.
        sys.path.insert(0, str(path.resolve().parent))
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:
            raise LoadError(f"importing {where} raised {type(exc).__name__}: {exc}") from exc
        finally:
            sys.path.remove(str(path.resolve().parent))
    else:
        try:
            module = importlib.import_module(where)
        except Exception as exc:
            raise LoadError(f"cannot import module {where!r}: {type(exc).__name__}: {exc}") from exc
    function = getattr(module, function_name, None)
    if function is None:
        raise LoadError(f"{where} has no attribute {function_name!r}")
    if not callable(function):
        raise LoadError(f"{where}:{function_name} is a {type(function).__name__}, not a function")
    return function, module
