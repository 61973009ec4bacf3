"""Ends its process with os._exit(0): no exception, no cleanup, status 0."""

import os


def grad(params, X, y, lam, activation):
    os._exit(0)
