"""gradcheck's channel to a worker (gradcheck.isolation.wire): it waits on nothing for ever, and a signal
stops it wherever the signal is caught."""

import os
import signal
import threading
import time

import numpy as np
import pytest

from gradcheck.errors import Timeout
from gradcheck.isolation import wire
from gradcheck.isolation.process import Isolated


@pytest.mark.slow
def test_requests_and_replies_larger_than_a_pipe_holds_do_not_wait_for_each_other(user_module):
    """Calls are sent ahead of their replies. Were a request written blocking, a worker writing a large reply
    and gradcheck writing the next large request would each wait for the other to read, for ever: a right
    candidate at depth 31 hung so. Here each request and reply is 2 MiB, more than any pipe's buffer."""
    echo = user_module("""
        def echo(x):
            return {"x": x}
    """)
    xs = [np.full(1 << 18, float(i)) for i in range(3)]
    runner, replies = Isolated({"candidate": f"{echo.path}:echo"}, timeout=60), []

    def exchange():
        runner.load()
        for x in xs:
            runner.submit("candidate", (x,), ("x",))
        replies.extend(runner.receive() for _ in xs)

    thread = threading.Thread(target=exchange, daemon=True)
    thread.start()
    thread.join(timeout=60)
    runner.close()  # a worker stuck in the exchange is ended, and the thread with it
    assert not thread.is_alive(), "gradcheck and its worker waited for each other"
    assert [r.failure for r in replies] == [None] * len(xs)
    assert all(np.array_equal(r.value["x"], x) for r, x in zip(replies, xs))


@pytest.mark.slow
def test_a_request_larger_than_a_pipe_holds_is_timed_from_when_it_is_written_whole(user_module):
    """gradcheck may come for a reply late, busy with the reference meanwhile: a request larger than the pipe
    holds is written whole only then, and the call cannot start before (a right candidate timed out so)."""
    echo = user_module("""
        def echo(x):
            return {"x": x}
    """)
    runner, x = Isolated({"candidate": f"{echo.path}:echo"}, timeout=1), np.full(1 << 18, 2.0)
    runner.load()
    try:
        runner.submit("candidate", (x,), ("x",))
        time.sleep(1.5)  # past the call's deadline (the worker has 1 s, once it has the request, to answer)
        outcome = runner.receive()
    finally:
        runner.close()
    assert outcome.failure is None and np.array_equal(outcome.value["x"], x)


def test_a_reply_that_has_begun_is_read_whole_however_late_gradcheck_comes_for_it():
    """Once a reply's length has come the call has returned: the rest, which a worker writes as gradcheck reads
    it, is waited for past the call's deadline (here its second part comes 0.5 s after the first)."""
    replies, worker_end = os.pipe()
    frame = wire._frame(wire.pack({"value": "x"}, [np.arange(4.0)]))
    os.write(worker_end, frame[:10])
    rest = threading.Thread(target=lambda: (time.sleep(0.5), os.write(worker_end, frame[10:])))
    rest.start()
    try:
        header, arrays = wire.receive_reply(replies, time.monotonic() - 1)  # its deadline passed already
    finally:
        rest.join()
        os.close(replies)
        os.close(worker_end)
    assert header == {"value": "x"} and np.array_equal(arrays[0], np.arange(4.0))


class Interrupted(Exception):
    pass


def _interrupt(signum, frame):
    raise Interrupted


def test_a_signal_caught_by_another_thread_stops_the_wait_for_a_reply():
    """A signal the kernel hands to another thread (JAX's, or a reader of the worker's output) does not
    interrupt the main thread's select, and Python runs its handler only when that thread runs again: Ctrl-C
    once waited for the candidate's whole timeout. Here the wait would be 30 s; it ends within a second."""
    previous = signal.signal(signal.SIGUSR1, _interrupt)
    replies, unused = os.pipe()  # nothing ever comes on it
    other = threading.Thread(target=lambda: (time.sleep(0.2), signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)))
    try:
        start = time.monotonic()
        other.start()
        with pytest.raises(Interrupted):
            wire.receive_reply(replies, start + 30)
        assert time.monotonic() - start < 5
    finally:
        other.join()
        signal.signal(signal.SIGUSR1, previous)
        os.close(replies)
        os.close(unused)


def test_a_reply_that_does_not_come_is_a_timeout_at_its_deadline():
    replies, unused = os.pipe()
    try:
        start = time.monotonic()
        with pytest.raises(Timeout, match="0 of 4 bytes came"):
            wire.receive_reply(replies, start + 0.6)
        assert 0.6 <= time.monotonic() - start < 5
    finally:
        os.close(replies)
        os.close(unused)
