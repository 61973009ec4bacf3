"""The worker process: imports a candidate's functions and calls them for gradcheck, one request at a time.

    python -P -m gradcheck.isolation.worker REQUESTS_FD REPLIES_FD

gradcheck starts it with its own channel on two file descriptors; the
candidate's stdout and stderr are pipes that gradcheck counts, and its stdin
is empty. faulthandler writes where a crash happened to stderr.
"""

import ctypes
import faulthandler
import importlib
import os
import signal
import sys
import time

from .. import cache
from ..errors import LoadError, Misfit
from . import jaxnumpy, wire
from .loader import load
from .process import call, misfit, outcome_to_wire, user_file

# The modes' modules (gradcheck.problems), by the name a request gives. The one the first request names is
# imported before the worker says it is ready, so that --timeout bounds the candidate's import, not gradcheck's;
# the others only when asked for (a seed-mode candidate's worker imports none: 0.08 s of every start). A zygote
# (isolation.zygote) imports them all once, for every worker it forks.
MODES = {"loss": "loss", "loss_hvp": "loss_products", "layer": "layer", "value_and_grad": "value_grad",
         "integrable": "integrable"}


def _mode(name):
    return importlib.import_module(f"gradcheck.problems.{MODES[name]}")


def _die_with_parent():
    # Linux: if gradcheck itself is killed, the worker (and a hung candidate) goes too.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _load(specs, expects):
    """(role -> function, the header of the reply); a function that cannot take the arguments `expects` names
    for its role is a LoadError, said before any case runs."""
    functions = {}
    for role, spec in specs.items():
        try:
            functions[role] = load(spec)[0]
        except LoadError as exc:
            raise LoadError(str(exc), role) from None
        problem = misfit(functions[role], expects.get(role, ()))
        if problem and role in expects:
            raise Misfit(problem, role)
    return functions, {}


def _forget_user_code():
    """The user's modules forgotten, and the rewritten ones: the next roles read every file as it is now (a
    helper edited since a check before included). JAX, NumPy, gradcheck and the seed model's packages stay."""
    for name, module in list(sys.modules.items()):
        if user_file(name, module):
            del sys.modules[name]
    jaxnumpy.forget()


def _roles(request):
    """(role -> function, the header of the reply: what the mode's reference side tells gradcheck's process) for
    a mode's side (problems.loss, problems.layer, problems.value_grad)."""
    mode = _mode(request["mode"])
    if request.get("forget"):
        _forget_user_code()
    try:
        if request["side"] == "reference":
            from ..problems import memo

            memo.begin(os.environ.get(cache.VARIABLE), request["mode"], request["specs"])
            if not memo.warm():  # else when a reference is computed, if one is (user_code.jax_ready)
                cache.enable(os.environ.get(cache.VARIABLE))  # gradcheck's choice: its folder, or none
            functions, told = mode.reference_roles(request["specs"])
        else:
            functions, told = mode.candidate_roles(request["specs"]), {}
    except LoadError as exc:
        raise LoadError(str(exc), request["side"]) from None
    except KeyboardInterrupt:
        raise
    except SystemExit as exc:
        raise LoadError(f"importing it called sys.exit({exc.code!r})", request["side"]) from None
    except BaseException as exc:
        raise LoadError(f"{type(exc).__name__}: {exc}", request["side"]) from None
    return functions, {"told": told}


def main(argv=None):
    requests, replies = (int(fd) for fd in (argv or sys.argv)[1:3])
    _die_with_parent()
    faulthandler.enable()
    first = wire.receive_request(requests)  # gradcheck sends it as the worker starts
    if first is not None and first["op"] == "roles":
        _mode(first["mode"])
    wire.send_reply(replies, {"ready": True})
    functions = {}
    while (request := first or wire.receive_request(requests)) is not None:
        first = None
        if request["op"] in ("load", "roles"):
            try:
                functions, header = _load(request["specs"], request["expects"]) if request["op"] == "load" \
                    else _roles(request)
            except LoadError as exc:
                header = {"error": str(exc), "role": exc.role, "misfit": isinstance(exc, Misfit)}
            wire.send_reply(replies, header)
        else:
            start = time.monotonic()
            outcome = call(functions[request["role"]], request["args"], request["names"])
            header, arrays = outcome_to_wire(outcome)
            wire.send_reply(replies, {**header, "seconds": time.monotonic() - start}, arrays)


if __name__ == "__main__":
    main()
