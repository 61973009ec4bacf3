"""Messages between gradcheck and the worker process that runs a candidate.

gradcheck → worker: pickle, since the worker trusts gradcheck.
worker → gradcheck: never pickle, since unpickling runs code and the worker runs
the candidate. A reply is a JSON header followed by the raw bytes of its arrays,
each declared in the header by a numeric dtype and a shape; anything else is
refused as a broken channel.

Each message is framed by its length, 4 bytes big-endian. gradcheck's requests go
through an `Outbox`, written as the pipe takes them, so that gradcheck never waits
on a worker busy with an earlier call: that worker may be waiting, itself, for
gradcheck to read its reply.
"""

import json
import math
import os
import pickle
import select
import struct
import time

import numpy as np

from ..errors import ChannelError, Closed, Timeout

MAX_HEADER = 1 << 20
# A reply larger than this is not a gradient of the small cases gradcheck draws.
MAX_REPLY = 1 << 28
NUMERIC_KINDS = "biuf"
# A signal caught by another thread (one of JAX's, or a reader of the worker's output) does not interrupt this
# thread's select: waiting for a reply, gradcheck wakes at least this often, and Python runs the handler (Ctrl-C).
WAKE_SECONDS = 0.25
# Once a reply's length has come, the call has returned: the rest is read within this long of then, however late
# gradcheck came for it. A reply larger than a pipe holds comes as gradcheck reads it, and past the call's own
# deadline a moment's wait for its next part is not the candidate's timeout (the worker's clock says that).
REST_SECONDS = 60


def _wait_readable(fd, deadline, outbox):
    """Whether fd can be read before the deadline; the outbox's requests written meanwhile, as the pipe takes them.
    Past the deadline, what has come is still read: gradcheck may come for a reply late, busy with the reference
    meanwhile; the worker's own clock says how long the call took."""
    while True:
        left = max(deadline - time.monotonic(), 0.0)
        writing = [outbox.fd] if outbox is not None and outbox.pending else []
        readable, writable, _ = select.select([fd], writing, [], min(left, WAKE_SECONDS))
        if writable:
            outbox.flush()
        if readable:
            return True
        if not left:
            return False


def _read_exact(fd, n, deadline, outbox=None):
    chunks, left = [], n
    while left:
        if deadline is not None and not _wait_readable(fd, deadline, outbox):
            raise Timeout(f"no answer within the time allowed ({n - left} of {n} bytes came)")
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise Closed("the channel closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _frame(payload):
    return struct.pack(">I", len(payload)) + payload


def _read_frame(fd, deadline, limit, outbox=None):
    (size,) = struct.unpack(">I", _read_exact(fd, 4, deadline, outbox))
    if size > limit:
        raise ChannelError(f"a message of {size} bytes, more than the {limit} allowed")
    return _read_exact(fd, size, None if deadline is None else max(deadline, time.monotonic() + REST_SECONDS), outbox)


# gradcheck → worker


class Outbox:
    """gradcheck's requests to a worker, on a pipe that never blocks: what the pipe does not take at once is
    kept, and written while gradcheck waits for a reply (receive_reply, wait_written). A request and a reply
    each larger than a pipe holds (64 KiB on Linux: a deep network's parameters) would otherwise wait for each
    other for ever. A worker that has closed the pipe (died) takes nothing more: `broken`, and its reply's
    channel says why."""

    def __init__(self, fd):
        os.set_blocking(fd, False)
        self.fd, self._unsent, self.written, self.broken = fd, bytearray(), 0, False

    @property
    def pending(self):
        return bool(self._unsent)

    def put(self, request):
        """Queues the request and writes what the pipe takes; returns where the request ends in the stream."""
        self._unsent += _frame(pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL))
        end = self.written + len(self._unsent)
        self.flush()
        return end

    def flush(self):
        try:
            while self._unsent:
                n = os.write(self.fd, self._unsent)
                del self._unsent[:n]
                self.written += n
        except BlockingIOError:
            pass
        except OSError:
            self._unsent.clear()
            self.broken = True

    def wait_written(self, end, deadline):
        """Writes until the stream is written up to `end` (a request `put` returned), the worker has closed the
        pipe, or the deadline has passed; returns when (time.monotonic), or None where it was written already."""
        if self.written >= end:
            return None
        while self.written < end and not self.broken and time.monotonic() < deadline:
            select.select([], [self.fd], [], min(max(deadline - time.monotonic(), 0.0), WAKE_SECONDS))
            self.flush()
        return time.monotonic()


def receive_request(fd):
    """The next request, or None when gradcheck has closed the channel."""
    try:
        return pickle.loads(_read_frame(fd, None, 1 << 31))
    except Closed:
        return None


# worker → gradcheck


def send_reply(fd, header, arrays=()):
    """header: JSON-ready; arrays: numeric ndarrays, referred to in the header by position."""
    view = memoryview(_frame(pack(header, arrays)))
    while view:
        view = view[os.write(fd, view):]


def receive_reply(fd, deadline, outbox=None):
    """(header, arrays); raises ChannelError for anything that is not a well-formed reply. outbox: the requests
    to the same worker, written while its reply is waited for."""
    try:
        return unpack(_read_frame(fd, deadline, MAX_REPLY, outbox))
    except ValueError as exc:
        raise ChannelError(f"a malformed reply ({exc})") from None


# A JSON header and numeric arrays, as bytes: a reply's, and an entry's of gradcheck's cache (problems.memo).


def pack(header, arrays=()):
    """The header's length, the header (with each array's dtype and shape), then the arrays' bytes."""
    arrays = [np.asarray(a, order="C") for a in arrays]  # not ascontiguousarray: it makes a 0-d array 1-d
    meta = [{"dtype": a.dtype.str, "shape": list(a.shape)} for a in arrays]
    head = json.dumps({"header": header, "arrays": meta}).encode()
    return struct.pack(">I", len(head)) + head + b"".join(a.tobytes() for a in arrays)


def unpack(frame):
    """(header, arrays) of what `pack` made; ValueError for anything else."""
    try:
        (size,) = struct.unpack(">I", frame[:4])
        if size > MAX_HEADER:
            raise ValueError("header too large")
        message = json.loads(frame[4:4 + size])
        header, offset, arrays = message["header"], 4 + size, []
        for meta in message["arrays"]:
            dtype = np.dtype(str(meta["dtype"]))
            shape = tuple(int(s) for s in meta["shape"])
            if dtype.kind not in NUMERIC_KINDS or any(s < 0 for s in shape):
                raise ValueError(f"array of dtype {dtype} and shape {shape}")
            count = math.prod(shape)  # exact: Python's ints do not overflow
            nbytes = dtype.itemsize * count
            if offset + nbytes > len(frame):
                raise ValueError("arrays shorter than declared")
            arrays.append(np.frombuffer(frame, dtype, count, offset).reshape(shape).copy())
            offset += nbytes
        if offset != len(frame):
            raise ValueError("bytes left over")
    except (ValueError, TypeError, KeyError, struct.error) as exc:
        raise ValueError(str(exc)) from None
    return header, arrays
