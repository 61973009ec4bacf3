"""A candidate that announces, in gradcheck's reply channel, a reply larger than any gradcheck accepts."""

import os
import struct
import sys


def grad(params, X, y, lam, activation):
    os.write(int(sys.argv[2]), struct.pack(">I", 2**32 - 1))
    return {k: v.copy() for k, v in params.items()}
