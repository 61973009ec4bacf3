"""Worker processes forked from one that has started already, rather than each started from nothing.

    python -P -m gradcheck.isolation.zygote SOCKET_FD

A worker's own start (Python, NumPy, the worker's code) takes 0.2 s of CPU; a library session that checks one
candidate after another starts a worker for each, and a crash or a timeout starts another. The zygote starts once,
as a worker would, and forks each worker from there: a few milliseconds. gradcheck sends it, over a Unix socket,
the four ends a worker needs (its two channel descriptors, its stdout and its stderr), its environment and its
folder; the zygote forks, says the child's pid, and later its exit status, as Popen would have it (negative: the
signal that ended it). The child is what `python -P -m gradcheck.isolation.worker` would be: a process group of
its own, stdin empty, the environment and folder gradcheck has now, and random draws of its own (Python's
`random` is seeded anew at a fork, and NumPy's global generator is seeded as numpy.random is imported, which the
zygote does not do).

One zygote serves one environment (what Python reads as it starts, such as PYTHONPATH, it keeps): gradcheck
starts another for another. It dies with gradcheck, and its workers with it. Linux only: elsewhere a fork without
an exec is not safe with the system's BLAS, and each worker is started from nothing.
"""

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import traceback
import warnings
from collections import deque

FORKS = sys.platform.startswith("linux")
# pytest's name for the test running now: it changes with every test and nothing reads it as Python starts.
_NOT_KEPT = ("PYTEST_CURRENT_TEST",)
_MESSAGE = 1 << 20  # an environment, as JSON, is a few kilobytes
# A zygote that has not forked a worker this long after being asked hangs, as a worker that had not started
# would: it is ended (gradcheck waits as long for a worker's own start, process.STARTUP_SECONDS).
FORK_SECONDS = 60


# gradcheck's side


class Forked:
    """A worker forked by a zygote: what `Isolated` uses of a subprocess.Popen (pid, stdout, stderr, poll, wait,
    returncode)."""

    def __init__(self, zygote, stdout, stderr):
        self._zygote, self.stdout, self.stderr = zygote, stdout, stderr
        self._pid, self.returncode = None, None

    @property
    def pid(self):
        """The child's pid, once the zygote has forked it; None where the zygote died first, or hung and was
        ended here (FORK_SECONDS)."""
        zygote = self._zygote
        with zygote.changed:
            if not zygote.changed.wait_for(self._known, FORK_SECONDS):
                zygote.process.kill()
                zygote.changed.wait_for(self._known)
        return self._pid

    def _known(self):
        return self._pid is not None or self.returncode is not None

    def poll(self):
        return self.returncode

    def wait(self, timeout=None):
        with self._zygote.changed:
            if not self._zygote.changed.wait_for(lambda: self.returncode is not None, timeout):
                raise subprocess.TimeoutExpired("gradcheck worker", timeout)
        return self.returncode


class Zygote:
    """gradcheck's end of one zygote process, started for `env`."""

    def __init__(self, env):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = subprocess.Popen(
            [sys.executable, "-P", "-m", "gradcheck.isolation.zygote", str(theirs.fileno())],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, pass_fds=(theirs.fileno(),), start_new_session=True,
            env=env)  # its stderr is gradcheck's: it writes nothing there unless it fails
        theirs.close()
        self.socket, self.changed = ours, threading.Condition()
        self.alive, self._unforked, self._children = True, deque(), {}
        threading.Thread(target=self._listen, daemon=True).start()

    def fork(self, requests_r, replies_w, env):
        """A Forked worker with those ends of its channel; OSError where this zygote is gone."""
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        child = Forked(self, os.fdopen(stdout_r, "rb"), os.fdopen(stderr_r, "rb"))
        try:
            with self.changed:
                if not self.alive:
                    raise OSError("the zygote is gone")
                request = json.dumps({"env": env, "cwd": os.getcwd()}).encode()
                socket.send_fds(self.socket, [request], [requests_r, replies_w, stdout_w, stderr_w])
                self._unforked.append(child)
        except OSError:
            child.stdout.close()
            child.stderr.close()
            raise
        finally:
            os.close(stdout_w)
            os.close(stderr_w)
        return child

    def busy(self):
        return bool(self._unforked or self._children)

    def close(self):
        # shutdown, not close alone: the listening thread's recv holds the socket open until it returns.
        self.socket.shutdown(socket.SHUT_RDWR)  # the zygote reads the end of its socket and exits
        self.process.wait()
        self.socket.close()

    def _listen(self):
        """The zygote's news: each fork's pid, in the order asked, and each child's exit status. Where the
        zygote dies, its children die with it (PR_SET_PDEATHSIG): killed, as far as gradcheck can tell."""
        while True:
            try:
                message = json.loads(self.socket.recv(_MESSAGE) or b"null")
            except (OSError, ValueError):
                message = None
            with self.changed:
                if message is None:
                    self.alive = False
                    for child in (*self._unforked, *self._children.values()):
                        child.returncode = -signal.SIGKILL
                    self._unforked.clear()
                    self._children.clear()
                    self.changed.notify_all()
                    return
                if "forked" in message:
                    child = self._unforked.popleft()
                    child._pid = message["forked"]
                    self._children[child._pid] = child
                elif message.get("exited") in self._children:
                    self._children.pop(message["exited"]).returncode = message["returncode"]
                self.changed.notify_all()


_ZYGOTES = {}  # one for each environment (less _NOT_KEPT) workers were asked for in this process
_LOCK = threading.Lock()


def _forget_zygotes():
    # A fork of gradcheck's process (multiprocessing's) has no thread listening to them: it starts its own.
    global _LOCK
    _ZYGOTES.clear()
    _LOCK = threading.Lock()


os.register_at_fork(after_in_child=_forget_zygotes)


def start_worker(requests_r, replies_w, env):
    """A worker process for those ends of its channel, in `env` (None: this process's), started as
    `python -P -m gradcheck.isolation.worker` (-P: the current folder is not importable, as it is not for the
    gradcheck command itself): forked by a zygote where this system allows, else a Popen. The caller closes its
    copies of the two ends."""
    env = dict(os.environ if env is None else env)
    key = tuple(sorted((k, v) for k, v in env.items() if k not in _NOT_KEPT))
    # Twice: a zygote that has died since it was last asked is replaced. One alive that cannot be sent the request
    # (an environment too large for one message: the socket's buffer, some 200 KB) is kept for the environment,
    # idle, and the worker is started from nothing.
    for _ in range(2 if FORKS else 0):
        zygote = _zygote(key, env)
        try:
            return zygote.fork(requests_r, replies_w, env)
        except OSError:
            if zygote.alive:
                break
            with _LOCK:
                if _ZYGOTES.get(key) is zygote:
                    del _ZYGOTES[key]
    return subprocess.Popen(
        [sys.executable, "-P", "-m", "gradcheck.isolation.worker", str(requests_r), str(replies_w)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        pass_fds=(requests_r, replies_w), start_new_session=True, env=env)


def _zygote(key, env):
    """This process's zygote for the environment `key`, started where there is none (the idle ones of other
    environments ended then: no worker is left to die with them)."""
    with _LOCK:
        zygote = _ZYGOTES.get(key)
        if zygote is None or not zygote.alive:
            for other in [k for k, z in _ZYGOTES.items() if not z.busy()]:
                _ZYGOTES.pop(other).close()
            zygote = _ZYGOTES[key] = Zygote(env)
        return zygote


# The zygote's side


def _child(ends, request):
    """In the forked child: the worker, as a process of its own would run it. Never returns."""
    code = 1
    try:
        os.setpgid(0, 0)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        requests_r, replies_w, stdout_w, stderr_w = ends
        empty = os.open(os.devnull, os.O_RDONLY)
        for fd, target in ((empty, 0), (stdout_w, 1), (stderr_w, 2)):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        from . import worker

        sys.argv = [worker.__file__, str(requests_r), str(replies_w)]
        worker.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        os._exit(code)


def _reap(channel):
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        channel.send(json.dumps({"exited": pid, "returncode": os.waitstatus_to_exitcode(status)}).encode())


def main(argv=None):
    try:
        _serve(socket.socket(fileno=int((argv or sys.argv)[1])))
    except OSError:  # gradcheck is gone (its end of the socket with it), or going: nothing to tell anyone
        pass


def _serve(channel):
    from . import worker  # imported once, here, for every worker forked

    for mode in worker.MODES:  # and the modes' modules, which a worker started from nothing imports when asked
        worker._mode(mode)
    worker._die_with_parent()
    # Python 3.12 warns of a fork in a process with threads: NumPy's BLAS has its pool, idle here, and forks
    # itself safely (as multiprocessing's fork start method relies on).
    warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
    woken_r, woken_w = os.pipe()
    os.set_blocking(woken_w, False)
    signal.set_wakeup_fd(woken_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # it writes to woken_w
    while True:
        readable, _, _ = select.select([channel, woken_r], [], [])
        if woken_r in readable:
            os.read(woken_r, 4096)
            _reap(channel)
        if channel in readable:
            message, ends, _, _ = socket.recv_fds(channel, _MESSAGE, 4)
            if not message:
                return  # gradcheck is gone; the workers go with this process
            pid = os.fork()
            if pid == 0:
                channel.close()
                signal.set_wakeup_fd(-1)
                os.close(woken_r)
                os.close(woken_w)
                _child(ends, json.loads(message))
            try:
                os.setpgid(pid, pid)  # as the child does: gradcheck may kill the group before the child runs
            except OSError:  # the child did first (or has ended)
                pass
            for fd in ends:
                os.close(fd)
            channel.send(json.dumps({"forked": pid}).encode())


if __name__ == "__main__":
    main()
