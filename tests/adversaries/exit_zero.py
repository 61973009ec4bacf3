"""Calls sys.exit(0) instead of returning: an exit status of 0 must not pass for agreement."""

import sys


def grad(params, X, y, lam, activation):
    sys.exit(0)
