"""Calls sys.exit with a message, as a learner's `sys.exit("stop here")` while debugging."""

import sys


def grad(params, X, y, lam, activation):
    sys.exit("stop here")
