"""Calling a candidate, which may do anything: raise, exit, crash, hang, print,
modify its inputs, or return something that is not a gradient.

`call` runs one call and turns whatever happens into an `Outcome`. `InProcess`
calls functions in this process (the library API: exceptions and SystemExit
become failures, Python-level prints are counted and kept out of the way).
`Isolated` calls them in a worker process of their own (the command line): an
exit, a crash, a hang past the timeout or a flood of output ends that process,
not gradcheck, and is reported as the candidate's failure.

Isolation protects the verdict from a candidate's bugs, not from code written
to attack gradcheck: the worker runs as the same user.
"""

import contextlib
import inspect
import os
import re
import signal
import subprocess
import sysconfig
import threading
import time
import traceback
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import values, wire
from .zygote import start_worker
from ..errors import ChannelError, Closed, LoadError, Misfit, Timeout, Unportable

# After this many crashes or timeouts the candidate is not run again: the remaining cases are "not run".
MAX_FATAL = 3
# The worker's own start (Python, NumPy), before the candidate's import is timed.
STARTUP_SECONDS = 60
_GRADCHECK = str(Path(__file__).resolve().parents[1])
_LIBRARIES = {str(Path(sysconfig.get_paths()[k]).resolve()) for k in ("stdlib", "platstdlib", "purelib", "platlib")}


@dataclass
class Outcome:
    """What one call came to.

    value: name -> numeric ndarray, or words for what came where it is not one.
    types: name -> the type of the returned value (e.g. a JAX array).
    failure: None, or {"kind", "message"}; kind is one of FAILURES.
    modified: the inputs the candidate changed in place.
    """

    value: dict = field(default_factory=dict)
    types: dict = field(default_factory=dict)
    failure: dict | None = None
    modified: list = field(default_factory=list)
    tree: dict | None = None  # for a values.Tree result: its structure, the arrays in value as "#0", "#1", …


FAILURES = ("raised", "exited", "returned", "signature", "crashed", "timed out", "broke the channel", "not run")
# The process is gone after these: the worker is restarted for the next call.
FATAL = ("crashed", "timed out", "broke the channel")


def _failure(kind, message):
    return Outcome(failure={"kind": kind, "message": message})


def _where_text(filename, lineno):
    path = Path(filename)
    try:
        path = path.resolve().relative_to(Path.cwd())
    except ValueError:
        pass
    return f"{path}:{lineno}"


def is_library(filename):
    resolved = str(Path(filename).resolve())
    return resolved.startswith(_GRADCHECK) or any(resolved.startswith(p) for p in _LIBRARIES)


# gradcheck's own packages: an editable install keeps jax_reference and manual_grad out of site-packages.
OWN_PACKAGES = ("gradcheck", "jax_reference", "manual_grad")


def user_file(name, module):
    """The file of a module of the user's, or None for a module of the standard library, of site-packages or of
    gradcheck's own packages, or one with no file."""
    path = getattr(module, "__file__", None)
    return path if path and name.partition(".")[0] not in OWN_PACKAGES and not is_library(path) else None


def user_line(tb):
    """file:line of the innermost frame in the user's code (not the standard library,
    site-packages or gradcheck), or of the innermost frame where there is none."""
    frames = traceback.extract_tb(tb)
    if not frames:
        return None
    user = [f for f in frames if not is_library(f.filename)]
    frame = (user or frames)[-1]
    return _where_text(frame.filename, frame.lineno)


def _definition(function):
    """'grad(params, X, y) at my_grad.py:3', as far as Python can tell."""
    name = getattr(function, "__name__", type(function).__name__)
    try:
        text = f"{name}{inspect.signature(function)}"
    except (TypeError, ValueError):
        text = name
    try:
        return f"{text} at {_where_text(inspect.getsourcefile(function), inspect.getsourcelines(function)[1])}"
    except (TypeError, OSError):
        return text


def misfit(function, names):
    """None where function(*names) can be called, else one line: how it is defined and what it cannot take."""
    try:
        inspect.signature(function).bind(*names)
    except TypeError as exc:
        return f"{_definition(function)} cannot be called as ({', '.join(names)}): {exc}"
    except ValueError:  # no signature to read (a builtin): the call will tell
        pass
    return None


def what(value):
    """A few words for a value that is not what was expected."""
    if value is None:
        return "None"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} item{'s' * (len(value) != 1)}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a {type(value).__name__}"


def _type_name(value):
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def portable(result):
    """An Outcome for a returned `result`: name -> numeric ndarray, or words for what came."""
    if isinstance(result, values.Tree):
        arrays = []
        try:
            tree = result.encode(arrays)
        except Unportable as exc:
            return _failure("returned", f"returned what cannot be passed on: {exc}")
        return Outcome(value={f"#{i}": a for i, a in enumerate(arrays)}, tree=tree)
    if not isinstance(result, Mapping):
        return _failure("returned", f"returned {what(result)}, not a dict")
    outcome = Outcome()
    for key, value in result.items():
        name = key if isinstance(key, str) else repr(key)
        outcome.types[name] = _type_name(value)
        if value is None:
            outcome.value[name] = "None, not an array (is it written yet?)"
            continue
        if isinstance(value, (list, tuple)):
            outcome.value[name] = f"not an array ({what(value)}): return a NumPy array"
            continue
        try:
            array = np.asarray(value)
        except Exception as exc:
            outcome.value[name] = f"not an array ({what(value)}: {type(exc).__name__})"
            continue
        if array.dtype.kind not in wire.NUMERIC_KINDS:
            outcome.value[name] = f"not a numeric array ({what(value)}, dtype {array.dtype})"
        else:
            outcome.value[name] = array
    return outcome


def _snapshot(args, names):
    """(name, copy) of every array among the arguments, dict entries included."""
    shots = []
    for name, arg in zip(names, args):
        if isinstance(arg, Mapping):
            shots.append((name, dict(arg)))
            shots += [(f"{name}[{k!r}]", np.array(v, copy=True)) for k, v in arg.items() if isinstance(v, np.ndarray)]
        elif isinstance(arg, np.ndarray):
            shots.append((name, arg.copy()))
    return shots


def _changed(before, after):
    if isinstance(before, dict):
        return set(before) != set(after)
    return before.shape != after.shape or before.dtype != after.dtype or before.tobytes() != after.tobytes()


def _fresh(args):
    """Copies of the arguments, so that the candidate cannot corrupt what gradcheck keeps."""
    return [{k: np.array(v, copy=True) if isinstance(v, np.ndarray) else v for k, v in a.items()}
            if isinstance(a, Mapping) else np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]


def call(function, args, names):
    """function(*args) on copies of args, whatever happens; an Outcome.

    names: how to call each argument in reports ("params", "X", ...).
    """
    args = _fresh(args)
    before = _snapshot(args, names)
    try:
        outcome = portable(function(*args))
    except KeyboardInterrupt:
        raise
    except SystemExit as exc:
        outcome = _failure("exited", f"called sys.exit({exc.code!r}) (at {user_line(exc.__traceback__.tb_next)})")
    except BaseException as exc:
        # A TypeError raised by the call itself, before any line of the function ran: the arguments do not fit.
        if isinstance(exc, TypeError) and exc.__traceback__.tb_next is None:
            expected = f"{getattr(function, '__name__', 'function')}({', '.join(names)})"
            outcome = _failure("signature", f"cannot be called as {expected}: {exc}; it is defined as {_definition(function)}")
        else:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            where = "" if getattr(exc, "located", False) else f" (at {user_line(exc.__traceback__.tb_next)})"
            outcome = _failure("raised", f"raised {type(exc).__name__}: {message}{where}")
    after = dict(_snapshot(args, names))
    outcome.modified = [name for name, value in before if _changed(value, after[name])]
    return outcome


class Tally:
    """How much a stream carried: bytes and lines, with its first and last few lines kept."""

    KEEP = 2000

    def __init__(self):
        self.reset()

    def reset(self):
        self.bytes = self.lines = 0
        self.head, self.tail = bytearray(), bytearray()

    def add(self, data):
        self.bytes += len(data)
        self.lines += data.count(b"\n")
        if len(self.head) < self.KEEP:
            self.head += data[: self.KEEP - len(self.head)]
        self.tail = (self.tail + data)[-self.KEEP:]

    def to_json(self):
        head = self.head.decode(errors="replace")
        unfinished = self.bytes > 0 and not self.tail.endswith(b"\n")  # a last line without its newline
        return {"bytes": self.bytes, "lines": self.lines + unfinished,
                "first_line": head.splitlines()[0] if head.strip() else ""}


class _TextTally:
    """A text stream that only counts (for redirect_stdout)."""

    def __init__(self, tally):
        self.tally = tally

    def write(self, text):
        self.tally.add(text.encode(errors="replace"))
        return len(text)

    def flush(self):
        pass


class InProcess:
    """Calls functions in this process; `submit` then `receive`, as `Isolated` does."""

    def __init__(self, functions):
        self.functions = functions
        self.output = {"stdout": Tally(), "stderr": Tally()}
        self._pending = deque()

    def submit(self, role, args, names):
        self._pending.append((role, args, names))

    def receive(self):
        role, args, names = self._pending.popleft()
        with contextlib.redirect_stdout(_TextTally(self.output["stdout"])), \
                contextlib.redirect_stderr(_TextTally(self.output["stderr"])):
            return call(self.functions[role], args, names)

    def close(self):
        pass


def _signal_words(returncode):
    if returncode < 0:
        number = -returncode
        try:
            return f"was killed by signal {signal.Signals(number).name} ({signal.strsignal(number)})"
        except ValueError:
            return f"was killed by signal {number}"
    return f"exited with status {returncode}"


_FAULT_FRAME = re.compile(r'File "([^"]+)", line (\d+) in (\S+)')
_LIVE = set()  # the worker processes running now


def _kill_group(process):
    """SIGKILL to a worker's process group, which holds whatever the candidate started (no pid: a zygote that
    died before it could fork the worker)."""
    if process.pid is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


def kill_workers():
    """Ends every worker process, and whatever they started: for a signal handler on the way out."""
    for process in list(_LIVE):
        _kill_group(process)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


class Isolated:
    """Runs the functions named by specs in a worker process, one call at a time, each within `timeout` seconds.

    specs: role -> "file.py:function" or "module:function"; expects: role -> the argument names it is called
    with, checked against its signature as it loads (a function that cannot take them is a LoadError).
    roles: instead of specs, {"side": "reference" or "candidate", "mode": "loss" or "layer", "specs": …}:
    the worker builds the roles of that mode's reference_roles or candidate_roles (gradcheck.problems).
    Calls may be submitted ahead: the worker works while gradcheck computes the reference. Their replies come
    in order; a call that was in hand when its worker died is sent again to the next.
    """

    def __init__(self, specs=None, *, timeout, roles=None, env=None, expects=None):
        self.timeout, self.env = timeout, env
        self.request = {"op": "roles", **roles} if roles else \
            {"op": "load", "specs": dict(specs or {}), "expects": dict(expects or {})}
        self.output = {"stdout": Tally(), "stderr": Tally()}
        self.told = {}  # what a mode's reference side tells gradcheck's process, as it is (gradcheck.problems)
        self.fatal = 0
        self._process = None
        self._pending = deque()
        self._busy_since = None

    # The worker's life

    def _spawn(self):
        requests_r, requests_w = os.pipe()
        replies_r, replies_w = os.pipe()
        self._process = start_worker(requests_r, replies_w, self.env)
        _LIVE.add(self._process)
        os.close(requests_r)
        os.close(replies_w)
        self._outbox, self._replies = wire.Outbox(requests_w), replies_r
        self._readers = [threading.Thread(target=self._drain, args=(stream, self.output[name]), daemon=True)
                         for name, stream in (("stdout", self._process.stdout), ("stderr", self._process.stderr))]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _drain(stream, tally):
        for chunk in iter(lambda: stream.read1(1 << 16), b""):
            tally.add(chunk)

    def load(self):
        """Starts the worker and imports the functions; raises LoadError with the reason where it cannot."""
        self.start()
        self.finish()

    def start(self):
        """Starts the worker and asks it to import the functions, without waiting: two workers start at once."""
        self._spawn()
        # It waits in the pipe while the worker starts; a worker dead already: `finish` reads why.
        self._outbox.put(self.request)

    def finish(self):
        """Waits for the worker started by `start`: its own start (Python, NumPy), then the functions' import,
        within `timeout`; raises LoadError with the reason where they cannot be imported."""
        try:
            wire.receive_reply(self._replies, time.monotonic() + STARTUP_SECONDS, self._outbox)  # ready
        except ChannelError as exc:
            raise LoadError(f"while it was being imported, its process {self._death_words(exc)}") from None
        self._loaded()

    def reassign(self, roles, timeout=None, forget=False):
        """The same worker, given other roles (another mode's, or another function's): the process and what it
        imported (JAX, the user's module) are kept, its calls' counts start anew. forget: the worker forgets the
        user's modules first, and reads every file again (a worker kept from another check). A worker that is
        not running is started. LoadError as for `load`."""
        self.request = {"op": "roles", **roles, "forget": forget}
        self.timeout = self.timeout if timeout is None else timeout
        self.fatal = 0
        for tally in self.output.values():
            tally.reset()
        if self._pending:  # replies still due to the last roles: the channel is out of step with the next
            self._kill()
            self._pending.clear()
        if self._process is None:
            self.load()
            return
        self._outbox.put(self.request)
        if self._outbox.broken:
            self._kill()
            self.load()
            return
        self._loaded(keep=True)

    def _loaded(self, keep=False):
        """The reply to a request for functions: what the worker was told to import, and what it says. keep:
        a worker that could not import them is kept for other roles (it said so; its channel is in step)."""
        try:
            header, _ = wire.receive_reply(self._replies, time.monotonic() + self.timeout, self._outbox)
        except ChannelError as exc:
            raise LoadError(f"while it was being imported, its process {self._death_words(exc)}") from None
        if header.get("error"):
            if not keep:
                self._kill()
            raise (Misfit if header.get("misfit") else LoadError)(str(header["error"]), header.get("role"))
        self.told = header.get("told", {})

    def _kill(self):
        if self._process is None:
            return
        _kill_group(self._process)
        self._process.wait()
        _LIVE.discard(self._process)
        for reader in self._readers:
            reader.join(timeout=1)
        for fd in (self._outbox.fd, self._replies):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._process = None

    def close(self):
        self._kill()

    def idle(self):
        """Whether the worker is running, and owes no reply: it can be given other roles."""
        return self._process is not None and self._process.poll() is None and not self._pending

    def _death_words(self, exc):
        """Why the channel failed: a timeout, the process's death (and where, from faulthandler), or garbage.
        The worker is gone afterwards."""
        if isinstance(exc, Timeout):
            self._kill()
            return f"did not return within {self.timeout:g} s (--timeout)"
        if not isinstance(exc, Closed):
            self._kill()
            return f"wrote something other than a reply to gradcheck's channel ({exc})"
        try:
            returncode = self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._kill()
            return "closed gradcheck's channel"
        self._kill()
        words = _signal_words(returncode)
        crash = self.output["stderr"].tail.decode(errors="replace").split("Fatal Python error")
        # faulthandler lists the most recent call first.
        frames = _FAULT_FRAME.findall(crash[-1]) if len(crash) > 1 else []
        user = [f for f in frames if not is_library(f[0])] or frames
        if user:
            filename, line, function = user[0]
            words += f" at {_where_text(filename, line)} in {function}"
        return words

    # Calls

    def _restart(self):
        """None once a worker is ready, else the Outcome of the call that cannot be made."""
        if self.fatal >= MAX_FATAL:
            return _failure("not run", f"not run: the candidate's process had to be ended {self.fatal} times (a crash, "
                            "an exit or a timeout), so it was not started again")
        try:
            self.load()
        except LoadError as exc:
            self.fatal += 1
            return _failure("crashed", f"restarting it failed: {exc}")
        return None

    def submit(self, role, args, names):
        self._pending.append(("waiting", {"op": "call", "role": role, "args": args, "names": list(names)}, None))
        self._send()

    def _send(self):
        """Sends the calls that wait, in order, a worker started where there is none; a call that cannot be
        sent (the worker cannot be started again) has its failure in its place. A sent call keeps where its
        request ends in the stream to the worker: its time counts from when it is written whole."""
        for i in range(len(self._pending)):
            state, request, _ = self._pending[i]
            if state != "waiting":
                continue
            if self._process is None:
                failure = self._restart()
                if failure is not None:
                    self._pending[i] = ("failed", failure, None)
                    continue
            if not any(state == "sent" for state, _, _ in self._pending):
                self._busy_since = time.monotonic()
            # A worker that died since its last reply cannot read the call: `receive` finds out why.
            self._pending[i] = ("sent", request, self._outbox.put(request))

    def receive(self):
        if self._pending[0][0] == "waiting":
            self._send()
        state, entry, end = self._pending.popleft()
        if state == "failed":
            return entry
        # A request larger than the pipe holds is written as the worker reads it, while gradcheck waits here:
        # gradcheck may come late, busy with the reference meanwhile, and the call cannot start before that.
        written = self._outbox.wait_written(end, time.monotonic() + self.timeout)
        if written is not None:
            self._busy_since = max(self._busy_since, written)
        try:
            header, arrays = wire.receive_reply(self._replies, self._busy_since + self.timeout, self._outbox)
            # A reply of the wrong form, even a well-framed one, leaves the channel out of step with the calls:
            # the process is ended as for a broken frame.
            outcome = outcome_from_wire(header, arrays)
        except ChannelError as exc:
            self.fatal += 1
            kind = {Timeout: "timed out", Closed: "crashed"}.get(type(exc), "broke the channel")
            failure = _failure(kind, {"timed out": "", "crashed": "crashed: its process ",
                                      "broke the channel": "broke gradcheck's channel: its process "}[kind]
                               + self._death_words(exc))
            # Calls already sent went down with the process: each is sent again, to the next one.
            self._pending = deque(("waiting", e, None) if state == "sent" else (state, e, end)
                                  for state, e, end in self._pending)
            return failure
        self._busy_since = time.monotonic()
        if isinstance(header.get("seconds"), (int, float)) and header["seconds"] > self.timeout:
            return _failure("timed out", f"did not return within {self.timeout:g} s (--timeout): it took "
                            f"{header['seconds']:.3g} s")
        return outcome


# The worker's side of a call


def outcome_to_wire(outcome):
    arrays, value = [], {}
    for name, v in outcome.value.items():
        if isinstance(v, np.ndarray):
            value[name] = {"array": len(arrays)}
            arrays.append(v)
        else:
            value[name] = {"text": v}
    header = {"value": value, "types": outcome.types, "failure": outcome.failure, "modified": outcome.modified,
              "tree": outcome.tree}
    return header, arrays


def outcome_from_wire(header, arrays):
    try:
        value = {str(name): arrays[v["array"]] if "array" in v else str(v["text"]) for name, v in header["value"].items()}
        failure = header["failure"]
        if failure is not None:
            failure = {"kind": str(failure["kind"]), "message": str(failure["message"])}
            if failure["kind"] not in FAILURES:
                raise ValueError(failure["kind"])
        outcome = Outcome(value, {str(k): str(v) for k, v in header["types"].items()}, failure,
                          [str(m) for m in header["modified"]], header.get("tree"))
        if outcome.tree is not None:
            values.decode(outcome.tree, [value[f"#{i}"] for i in range(len(value))])  # well formed, or raises
        return outcome
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ChannelError(f"a malformed reply ({type(exc).__name__})") from None
