"""A multiclass SVM's loss on class scores, as a course's layers file writes it: svm_loss(x, y) -> (loss, dx),
the gradient of the first argument. Written for this project in the style of such files.

    gradcheck examples/course/svm.py:svm_loss --shapes "x: N,C; y: int[N] < C"

x (N, C) scores, y (N,) labels in [0, C). loss = (1/N) Σ_i Σ_{j ≠ y_i} max(0, x_ij − x_iy_i + 1).
"""

import numpy as np


def svm_loss(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y]
    margins = np.maximum(0, x - correct[:, np.newaxis] + 1.0)
    margins[np.arange(N), y] = 0
    loss = np.sum(margins) / N
    num_pos = np.sum(margins > 0, axis=1)
    dx = np.zeros_like(x)
    dx[margins > 0] = 1
    dx[np.arange(N), y] -= num_pos
    dx /= N
    return loss, dx
