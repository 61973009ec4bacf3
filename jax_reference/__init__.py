"""The reference: the same loss in JAX, differentiated by `jax.grad`.

JAX is imported on first use of one of the names below, not by `import
jax_reference`: the gradcheck command answers --help and usage errors, and
its worker process runs candidates, without paying for JAX.
"""

import importlib

# Cases are stacked this many at a time for api.grad_many (one compilation per bucket serves every batch); here,
# so that a caller chunks its cases by it without importing JAX.
BATCH = 64

_EXPORTS = {
    "bucket": ".api", "forward": ".api", "grad": ".api", "loss": ".api", "stages": ".api",
    "value_and_grad": ".api", "hvp": ".second_order", "gnvp": ".second_order", "forward_fn": ".model", "loss_fn": ".model", "init_params": "manual_grad",
}
_SUBMODULES = ("api", "cases", "model", "second_order", "tolerances")

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*_EXPORTS, *_SUBMODULES])
