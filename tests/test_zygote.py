"""Workers forked from a zygote (gradcheck.isolation.zygote) are what a worker started anew would be; one that
ends its zygote ends no check with a pass, and a zygote is ended only when no worker of its is left."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gradcheck import check_gradients
from gradcheck.isolation import zygote
from gradcheck.isolation.process import Isolated

from .paths import ROOT

PROBE = """
    import os, sys
    import numpy as np

    def probe(cwd):
        return {"as_started": np.array([os.environ.get("PYTEST_CURRENT_TEST") == "the test now", os.getcwd() == cwd,
                                        sys.stdin.read() == "", os.getpgid(0) == os.getpid(), sys.flags.safe_path]),
                "parent": np.array([os.getppid()]), "draws": np.random.rand(4)}
"""


def probed(path, cwd):
    worker = Isolated({"candidate": f"{path}:probe"}, timeout=30)
    try:
        worker.load()
        worker.submit("candidate", (str(cwd),), ("cwd",))
        outcome = worker.receive()
    finally:
        worker.close()
    assert outcome.failure is None, outcome.failure
    return outcome.value


@pytest.mark.slow
def test_a_forked_worker_has_gradcheck_s_environment_and_folder_as_they_are_now(user_module, tmp_path, monkeypatch):
    """The zygote started before: the second worker still gets the folder and the variable gradcheck has now,
    stdin empty, a process group of its own, no current folder on its path (-P), and random draws of its own."""
    probe = user_module(PROBE)
    first = probed(probe.path, os.getcwd())
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "the test now")  # not one a zygote is kept for: the same zygote
    second = probed(probe.path, tmp_path / "elsewhere")
    assert second["as_started"].all() and first["as_started"][1:].all()
    assert zygote.FORKS and first["parent"][0] == second["parent"][0] != os.getpid()  # forked by one zygote
    assert not np.array_equal(first["draws"], second["draws"])


@pytest.mark.slow
def test_where_a_fork_is_not_safe_the_worker_is_started_anew(user_module, monkeypatch):
    probe = user_module(PROBE)
    monkeypatch.setattr(zygote, "FORKS", False)
    started = probed(probe.path, os.getcwd())
    assert started["parent"][0] == os.getpid() and started["as_started"][1:].all()


@pytest.mark.slow
def test_a_candidate_that_kills_its_zygote_fails_and_the_next_check_has_a_new_one(user_module):
    killer = user_module("""
        import os, signal, time

        def grad(params, X, y, lam, activation):
            os.kill(os.getppid(), signal.SIGKILL)
            time.sleep(60)  # ended with its zygote
    """)
    report = check_gradients(f"{killer.path}:grad", cases=2, timeout=30)
    assert not report["ok"] and {f["kind"] for f in report["failures"]} == {"crashed"}
    assert "killed by signal SIGKILL" in report["failures"][0]["message"]
    assert check_gradients("manual_grad:grad", cases=2, activations="tanh")["ok"]


@pytest.mark.slow
def test_a_zygote_is_ended_only_once_none_of_its_workers_is_left(user_module, monkeypatch):
    """Another environment needs a zygote of its own; the others are ended then, those idle alone."""
    probe = user_module(PROBE)
    monkeypatch.setenv("GRADCHECK_TEST_ANOTHER_ENVIRONMENT", "0")  # a zygote of this test's alone
    busy = Isolated({"candidate": f"{probe.path}:probe"}, timeout=30)
    busy.load()
    try:
        kept = [z for key, z in zygote._ZYGOTES.items() if ("GRADCHECK_TEST_ANOTHER_ENVIRONMENT", "0") in key]
        monkeypatch.setenv("GRADCHECK_TEST_ANOTHER_ENVIRONMENT", "1")
        probed(probe.path, os.getcwd())
        assert kept and all(z.alive and z.process.poll() is None for z in kept)
        busy.submit("candidate", (os.getcwd(),), ("cwd",))
        assert busy.receive().failure is None  # its zygote kept, its worker alive
    finally:
        busy.close()
    monkeypatch.setenv("GRADCHECK_TEST_ANOTHER_ENVIRONMENT", "2")
    probed(probe.path, os.getcwd())
    assert all(z.process.poll() is not None for z in kept)


@pytest.mark.slow
def test_a_fork_of_gradcheck_s_process_starts_workers_of_its_own(user_module):
    """multiprocessing's fork of a process that has a zygote: the child has no thread listening to that one."""
    probe = user_module(PROBE)
    code = f"""if True:
        import os, sys
        from tests.test_zygote import probed
        probed({str(probe.path)!r}, os.getcwd())
        pid = os.fork()
        if pid == 0:
            probed({str(probe.path)!r}, os.getcwd())
            os._exit(0)
        sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    """
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_a_zygote_whose_gradcheck_is_gone_ends_without_a_word(tmp_path):
    """Its stderr is gradcheck's: a zygote that finds gradcheck's end of the socket closed as it tells of a fork
    (or of an exit) ends, and writes nothing after gradcheck's last word."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    process = subprocess.Popen([sys.executable, "-P", "-m", "gradcheck.isolation.zygote", str(theirs.fileno())],
                               pass_fds=(theirs.fileno(),), stderr=subprocess.PIPE, text=True, cwd=ROOT)
    theirs.close()
    ends = [fd for _ in range(2) for fd in os.pipe()]
    request = json.dumps({"env": dict(os.environ), "cwd": str(tmp_path)}).encode()
    socket.send_fds(ours, [request], ends)  # sent whole before the zygote has started
    ours.close()
    for fd in ends:
        os.close(fd)
    assert process.wait(timeout=60) == 0 and process.stderr.read() == ""


@pytest.mark.slow
def test_an_environment_too_large_to_send_gets_a_worker_started_anew(user_module, monkeypatch):
    probe = user_module(PROBE)
    for i in range(5):  # 500 KB: more than a socket's buffer takes at once, less than exec's limits
        monkeypatch.setenv(f"GRADCHECK_TEST_LARGE_{i}", "x" * 100_000)
    before = zygotes_running()
    for _ in range(2):
        started = probed(probe.path, os.getcwd())
        assert started["parent"][0] == os.getpid() and started["as_started"][1:].all()
    assert len(zygotes_running() - before) == 1  # one, kept for that environment: none left behind


def zygotes_running():
    """The pids of this process's zygotes still running (Linux's /proc)."""
    running = set()
    for process in Path("/proc").iterdir():
        with contextlib.suppress(OSError):  # not a process, or one that ended meanwhile
            parent = int((process / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if parent == os.getpid() and b"gradcheck.isolation.zygote" in (process / "cmdline").read_bytes():
                running.add(process.name)
    return running


@pytest.mark.slow
def test_a_zygote_that_hangs_before_it_forks_is_ended_and_its_worker_is_a_load_error(user_module, monkeypatch):
    from gradcheck.errors import LoadError
    from gradcheck.isolation import process

    probe = user_module(PROBE)
    monkeypatch.setenv("GRADCHECK_TEST_ANOTHER_ENVIRONMENT", "a zygote of this test's alone")
    monkeypatch.setattr(process, "STARTUP_SECONDS", 0.3)
    monkeypatch.setattr(zygote, "FORK_SECONDS", 0.3)
    worker = Isolated({"candidate": f"{probe.path}:probe"}, timeout=30)
    worker.start()  # its zygote is still starting (Python, NumPy): stopped, it never forks the worker
    hung = next(z for key, z in zygote._ZYGOTES.items() if ("GRADCHECK_TEST_ANOTHER_ENVIRONMENT",
                                                             "a zygote of this test's alone") in key)
    os.kill(hung.process.pid, signal.SIGSTOP)
    with pytest.raises(LoadError, match="while it was being imported"):
        worker.finish()
    assert hung.process.wait(timeout=10) == -signal.SIGKILL and not hung.alive
