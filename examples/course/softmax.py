"""A softmax classifier's loss and gradient, written as a course assignment asks: the loss and its gradient
returned together, once with loops and once vectorised. Written for this project in the style of such files.

    gradcheck examples/course/softmax.py:softmax_loss_vectorized --shapes "W: D,C; X: N,D; y: int[N] < C; reg: 0.1"

W (D, C) weights, X (N, D) examples, y (N,) labels in [0, C), reg the penalty's strength.
loss = (1/N) Σ_i −log softmax(X W)[i, y_i] + reg ‖W‖².
"""

import numpy as np


def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    num_train, num_classes = X.shape[0], W.shape[1]
    for i in range(num_train):
        scores = X[i].dot(W)
        scores -= np.max(scores)  # shifted: exp cannot overflow, and the softmax is unchanged
        p = np.exp(scores) / np.sum(np.exp(scores))
        loss += -np.log(p[y[i]])
        for j in range(num_classes):
            dW[:, j] += (p[j] - (j == y[i])) * X[i]
    loss = loss / num_train + reg * np.sum(W * W)
    dW = dW / num_train + 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    scores = X.dot(W)
    scores -= np.max(scores, axis=1, keepdims=True)
    p = np.exp(scores)
    p /= np.sum(p, axis=1, keepdims=True)
    loss = -np.sum(np.log(p[range(num_train), y])) / num_train + reg * np.sum(W * W)
    dscores = p
    dscores[range(num_train), y] -= 1
    dW = X.T.dot(dscores) / num_train + 2 * reg * W
    return loss, dW
