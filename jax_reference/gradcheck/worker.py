"""The worker process: imports a candidate's functions and calls them for gradcheck, one request at a time.

    python -P -m jax_reference.gradcheck.worker REQUESTS_FD REPLIES_FD

gradcheck starts it with its own channel on two file descriptors; the
candidate's stdout and stderr are pipes that gradcheck counts, and its stdin
is empty. faulthandler writes where a crash happened to stderr.
"""

import ctypes
import faulthandler
import signal
import sys
import time

# generic is imported before the worker says it is ready: --timeout bounds the candidate's import, not gradcheck's.
from . import generic, wire
from .isolation import _definition, call, outcome_to_wire
from .loader import LoadError, MissingFunction, load


def _die_with_parent():
    # Linux: if gradcheck itself is killed, the worker (and a hung candidate) goes too.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _load(specs, optional):
    """(role -> function, the header of the reply); a role in `optional` may be missing from its module."""
    functions = {}
    for role, spec in specs.items():
        try:
            functions[role] = load(spec)[0]
        except LoadError as exc:
            if role not in optional or not isinstance(exc, MissingFunction):
                raise LoadError(str(exc), role) from None
    return functions, {"loaded": {role: _definition(f) for role, f in functions.items()}}


def _roles(request):
    """(role -> function, the header of the reply) for the loss and layer modes (generic.py)."""
    try:
        if request["side"] == "reference":
            functions, names = generic.reference_roles(request["mode"], request["specs"])
        else:
            functions, names = generic.candidate_roles(request["mode"], request["specs"]), []
    except LoadError as exc:
        raise LoadError(str(exc), request["side"]) from None
    except KeyboardInterrupt:
        raise
    except SystemExit as exc:
        raise LoadError(f"importing it called sys.exit({exc.code!r})", request["side"]) from None
    except BaseException as exc:
        raise LoadError(f"{type(exc).__name__}: {exc}", request["side"]) from None
    return functions, {"loaded": {role: _definition(f) for role, f in functions.items()}, "names": names}


def main(argv=None):
    requests, replies = (int(fd) for fd in (argv or sys.argv)[1:3])
    _die_with_parent()
    faulthandler.enable()
    wire.send_reply(replies, {"ready": True})
    functions = {}
    while (request := wire.receive_request(requests)) is not None:
        if request["op"] in ("load", "roles"):
            try:
                functions, header = _load(request["specs"], set(request["optional"])) if request["op"] == "load" \
                    else _roles(request)
            except LoadError as exc:
                header = {"error": str(exc), "role": exc.role}
            wire.send_reply(replies, header)
        else:
            start = time.monotonic()
            outcome = call(functions[request["role"]], request["args"], request["names"])
            header, arrays = outcome_to_wire(outcome)
            wire.send_reply(replies, {**header, "seconds": time.monotonic() - start}, arrays)


if __name__ == "__main__":
    main()
