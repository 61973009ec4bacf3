"""examples/course/softmax.py's vectorised loss with the commonest slip of the assignment: the penalty
reg ‖W‖² is in the loss, but its gradient is written reg W, not 2 reg W.

    gradcheck examples/course/softmax_reg_slip.py:softmax_loss_vectorized --shapes "W: D,C; X: N,D; y: int[N] < C; reg: 0.1"
"""

import numpy as np


def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    scores = X.dot(W)
    scores -= np.max(scores, axis=1, keepdims=True)
    p = np.exp(scores)
    p /= np.sum(p, axis=1, keepdims=True)
    loss = -np.sum(np.log(p[range(num_train), y])) / num_train + reg * np.sum(W * W)
    dscores = p
    dscores[range(num_train), y] -= 1
    dW = X.T.dot(dscores) / num_train + reg * W  # the slip: d(reg ‖W‖²)/dW is 2 reg W
    return loss, dW
