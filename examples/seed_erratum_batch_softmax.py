"""Seed erratum: the softmax denominator summed over j = 1..N, the batch, taken literally.

The page writes a3 = exp(z³_{y_i}) / Σ_{j=1}^{N} exp(z³_j). Read literally, each
column of exp(z3) is normalised over the N examples instead of each row over
the K classes. Everything else here is the correct derivation.
"""

import numpy as np

from learner import PHI, backward, one_hot


def grad(params, X, y, lam, activation):
    z2 = X @ params["W1"] + params["b1"]
    a2 = PHI[activation](z2)
    z3 = a2 @ params["W2"] + params["b2"]
    e = np.exp(z3 - z3.max(axis=0))
    a3 = e / e.sum(axis=0)  # Σ over j = 1..N, the examples: should be over the K classes (axis=1)
    delta3 = (a3 - one_hot(y, params["W2"].shape[1], X.dtype)) / X.shape[0]
    return backward(params, X, z2, a2, delta3, lam, activation)
