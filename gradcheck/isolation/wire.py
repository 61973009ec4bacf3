"""Messages between gradcheck and the worker process that runs a candidate.

gradcheck → worker: pickle, since the worker trusts gradcheck.
worker → gradcheck: never pickle, since unpickling runs code and the worker runs
the candidate. A reply is a JSON header followed by the raw bytes of its arrays,
each declared in the header by a numeric dtype and a shape; anything else is
refused as a broken channel.

Each message is framed by its length, 4 bytes big-endian.
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


def _read_exact(fd, n, deadline):
    chunks, left = [], n
    while left:
        if deadline is not None:
            # Past the deadline, what has come is still read: gradcheck may come for a reply late, busy with the
            # reference meanwhile; the worker's own clock says how long the call took.
            if not select.select([fd], [], [], max(deadline - time.monotonic(), 0.0))[0]:
                raise Timeout(f"no answer within the time allowed ({n - left} of {n} bytes came)")
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise Closed("the channel closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _write_frame(fd, payload):
    data = struct.pack(">I", len(payload)) + payload
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_frame(fd, deadline, limit):
    (size,) = struct.unpack(">I", _read_exact(fd, 4, deadline))
    if size > limit:
        raise ChannelError(f"a message of {size} bytes, more than the {limit} allowed")
    return _read_exact(fd, size, deadline)


# gradcheck → worker


def send_request(fd, request):
    _write_frame(fd, pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL))


def receive_request(fd):
    """The next request, or None when gradcheck has closed the channel."""
    try:
        return pickle.loads(_read_frame(fd, None, 1 << 31))
    except Closed:
        return None


# worker → gradcheck


def send_reply(fd, header, arrays=()):
    """header: JSON-ready; arrays: numeric ndarrays, referred to in the header by position."""
    _write_frame(fd, pack(header, arrays))


def receive_reply(fd, deadline):
    """(header, arrays); raises ChannelError for anything that is not a well-formed reply."""
    try:
        return unpack(_read_frame(fd, deadline, MAX_REPLY))
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
