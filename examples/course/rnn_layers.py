"""One step of an LSTM, forward and backward, as a course's rnn_layers.py writes it: two outputs (the next
hidden and cell states) and a cache; the backward takes a gradient for each output. Written for this project
in the style of such files.

    gradcheck examples/course/rnn_layers.py:lstm_step_backward --forward examples/course/rnn_layers.py:lstm_step_forward \
        --shapes "x: N,D; prev_h: N,H; prev_c: N,H; Wx: D,4H; Wh: H,4H; b: 4H"

x (N, D), prev_h and prev_c (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,).
"""

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x.dot(Wx) + prev_h.dot(Wh) + b
    i, f, o, g = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tanh_c = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)  # the cell state reaches the loss by both outputs
    di, df, do, dg = dc * g, dc * prev_c, dnext_h * tanh_c, dc * i
    da = np.hstack([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)])
    dx, dprev_h, dprev_c = da.dot(Wx.T), da.dot(Wh.T), dc * f
    dWx, dWh, db = x.T.dot(da), prev_h.T.dot(da), da.sum(axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_step_backward_one_path(dnext_h, dnext_c, cache):
    """The classic slip: the cell state's gradient from dnext_c alone, forgetting its path through next_h."""
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tanh_c = np.tanh(next_c)
    dc = dnext_c
    di, df, do, dg = dc * g, dc * prev_c, dnext_h * tanh_c, dc * i
    da = np.hstack([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)])
    dx, dprev_h, dprev_c = da.dot(Wx.T), da.dot(Wh.T), dc * f
    dWx, dWh, db = x.T.dot(da), prev_h.T.dot(da), da.sum(axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def sample_lstm_step(rng):
    N, D, H = (int(n) for n in rng.choice(np.arange(2, 8), 3, replace=False))
    return (rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H)),
            rng.standard_normal((D, 4 * H)) / np.sqrt(D), rng.standard_normal((H, 4 * H)) / np.sqrt(H),
            rng.standard_normal(4 * H))
