"""A candidate that writes a well-framed reply of the wrong form into gradcheck's reply channel."""

import json
import os
import struct
import sys


def grad(params, X, y, lam, activation):
    head = json.dumps({"header": {"value": {"W1": {"array": 7}}}, "arrays": []}).encode()
    frame = struct.pack(">I", len(head)) + head
    os.write(int(sys.argv[2]), struct.pack(">I", len(frame)) + frame)
    return {k: v.copy() for k, v in params.items()}
