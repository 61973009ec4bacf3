"""examples/course/neural_net.py's TwoLayerNet with a slip of its backward pass: the ReLU's mask is h1 < 0,
which h1 = max(0, ·) never is, so the gradient flows through the units that are off.

    gradcheck examples/course/neural_net_relu_mask.py:TwoLayerNet.loss --shapes "X: N,D; y: int[N] < C; reg: 0.1"
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
        dh1[h1 < 0] = 0  # the slip: h1 = max(0, ·) is never < 0, so no entry is masked
        grads["W1"] = X.T.dot(dh1) + 2 * reg * W1
        grads["b1"] = np.sum(dh1, axis=0)
        return loss, grads
