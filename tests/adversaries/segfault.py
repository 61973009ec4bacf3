"""Crashes its process: reads address 0 through ctypes."""

import ctypes


def grad(params, X, y, lam, activation):
    return ctypes.string_at(0)
