"""A two-layer network as a course assignment writes it: a class over self.params whose loss returns the loss
and the gradients of every parameter together. Written for this project in the style of such files.

    gradcheck examples/course/neural_net.py:TwoLayerNet.loss --shapes "X: N,D; y: int[N] < C; reg: 0.1"

X (N, D) examples, y (N,) labels in [0, C); a ReLU hidden layer of H units, a softmax over C classes.
loss = (1/N) Σ_i −log softmax(relu(X W1 + b1) W2 + b2)[i, y_i] + reg (‖W1‖² + ‖W2‖²).
"""

import numpy as np


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        self.params = {
            "W1": std * np.random.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": std * np.random.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }

    def loss(self, X, y=None, reg=0.0):
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        N = X.shape[0]
        h1 = np.maximum(0, X.dot(W1) + b1)
        scores = h1.dot(W2) + b2
        if y is None:
            return scores
        scores = scores - np.max(scores, axis=1, keepdims=True)
        probs = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)
        loss = -np.sum(np.log(probs[np.arange(N), y])) / N + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))

        grads = {}
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads["W2"] = h1.T.dot(dscores) + 2 * reg * W2
        grads["b2"] = np.sum(dscores, axis=0)
        dh1 = dscores.dot(W2.T)
        dh1[h1 <= 0] = 0
        grads["W1"] = X.T.dot(dh1) + 2 * reg * W1
        grads["b1"] = np.sum(dh1, axis=0)
        return loss, grads
