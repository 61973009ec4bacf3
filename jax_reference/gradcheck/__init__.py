"""gradcheck: check a hand-derived gradient function against autodiff, and say what is wrong.

The names below are imported on first use, so that the command line and the
worker process start without JAX.
"""

import importlib

_EXPORTS = {"assert_gradients_agree": ".check", "assert_vjp_agree": ".check", "check_gradients": ".check",
            "check_vjp": ".check", "junit": ".render", "text": ".render"}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
