"""Exits while being imported, as a script's leftover sys.exit() would."""

import sys

sys.exit(0)


def grad(params, X, y, lam, activation):
    raise AssertionError("never reached")
