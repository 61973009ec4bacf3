"""How closely the hand-derived gradients must agree with the reference: one table, keyed by dtype.

A comparison passes when, for each parameter,

    ‖candidate − reference‖_F <= atol + rtol · ‖reference‖_F      (normwise)

Derivation mistakes (a wrong sign, a missing 1/N, a transpose, φ instead of
φ') give normwise errors of order 1, many orders above either row.
"""

from typing import NamedTuple

import numpy as np


class Tolerance(NamedTuple):
    rtol: float
    atol: float


TOLERANCES = {
    # The project's promise: agreement to 1e-10 relative. Two correct float64
    # implementations that sum in different orders differ by a few ulps per
    # entry (u = 1.1e-16); the worst measured over the test suite's random
    # cases is about 1e-14, so 1e-10 leaves four orders of margin. atol covers
    # gradients that are exactly zero (K = 1, or λ = 0 with a dead relu layer),
    # where a relative error means nothing: 1e-13 is ~1000 u at entries of order 1.
    np.dtype(np.float64): Tolerance(rtol=1e-10, atol=1e-13),
    # float32 (u = 6.0e-8): the same reasoning scaled by u32/u64 = 5.4e8 gives
    # rtol ~ 1e-6 for the few-ulp differences; softmax of logits far apart
    # loses a few more bits in log-sum-exp, and a3 − Δ cancels when a3 is
    # close to one-hot. The worst measured is about 1e-5 (see the closing note
    # of the agreement tests); 1e-4 keeps an order of margin and is still four
    # orders below what a derivation mistake gives.
    np.dtype(np.float32): Tolerance(rtol=1e-4, atol=1e-6),
}

# Central finite differences, always in float64, along a unit direction v:
#   (J(θ + h v) − J(θ − h v)) / 2h = ⟨∇J, v⟩ + O(h² J''') + O(u |J| / h).
# h = 1e-5 balances the two (1e-10 and 1e-11 relative); FD_RTOL, applied to
# the scale ‖∇J‖ + |J|, leaves room for third derivatives up to ~1e4.
FD_STEP = 1e-5
FD_RTOL = 1e-6


def tolerance(dtype):
    """The row of TOLERANCES for `dtype` (float32 or float64)."""
    return TOLERANCES[np.dtype(dtype)]


def normwise_error(candidate, reference):
    """(‖c − r‖, ‖c − r‖ / ‖r‖) in float64; the relative part is inf when ‖r‖ = 0 < ‖c − r‖."""
    diff = float(np.linalg.norm(np.asarray(candidate, np.float64) - np.asarray(reference, np.float64)))
    scale = float(np.linalg.norm(np.asarray(reference, np.float64)))
    rel = diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf"))
    return diff, rel


def agrees(candidate, reference, dtype):
    """The normwise test above, for one parameter."""
    tol = tolerance(dtype)
    diff, _ = normwise_error(candidate, reference)
    return bool(diff <= tol.atol + tol.rtol * float(np.linalg.norm(np.asarray(reference, np.float64))))
