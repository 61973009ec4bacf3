"""gradcheck: check a hand-derived gradient against autodiff, and say what is wrong.

    from gradcheck import check_gradients, check_vjp, check_file, check_products, check_integrable
    from gradcheck import assert_gradients_agree, assert_vjp_agree, Report

Everything else is internal: `problems/` (what each mode checks), `pipeline/` (the one sweep, case step,
comparison and witness), `diagnose/`, `report/`, `isolation/` (the candidate's worker process). The names
below are imported on first use, so that the command line and the worker processes start without JAX.
"""

import importlib

_EXPORTS = {"assert_gradients_agree": ".api", "assert_vjp_agree": ".api", "check_gradients": ".api",
            "check_vjp": ".api", "check_products": ".api", "check_file": ".api", "check_integrable": ".api", "CandidateFailure": ".errors", "GradcheckError": ".errors", "UsageError": ".errors",
            "Report": ".report",
            "junit": ".report.junit", "text": ".report.text"}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(_EXPORTS)
