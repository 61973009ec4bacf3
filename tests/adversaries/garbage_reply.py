"""A candidate that writes bytes of its own into gradcheck's reply channel (the worker's second argument)."""

import os
import sys


def grad(params, X, y, lam, activation):
    os.write(int(sys.argv[2]), b"\x00\x00\x00\x05hello")
    return {k: v.copy() for k, v in params.items()}
