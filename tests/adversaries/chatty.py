"""A correct gradient that prints thousands of lines on stdout and stderr while it works."""

import sys

import manual_grad as mg


def grad(params, X, y, lam, activation):
    for i in range(2000):
        print(f"debug {i}: W1 is {params['W1'].shape}")
    print("done", file=sys.stderr)
    return mg.grad(params, X, y, lam, activation)
