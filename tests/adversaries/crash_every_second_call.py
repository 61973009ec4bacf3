"""Right in its process's first call, crashed in its second: each worker it runs in gets one call right."""

import os

from manual_grad import grad as right

calls = 0


def grad(params, X, y, lam, activation):
    global calls
    calls += 1
    if calls == 2:
        os._exit(0)
    return right(params, X, y, lam, activation)
