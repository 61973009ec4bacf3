"""The MLP's gradient with a typical mistake: the derivative of the square taken as (out − Y), its 2 lost."""

from mlp_mse import forward


def grad(params, X, Y):
    a1, a2, out = forward(params, X)
    d_out = (out - Y) / out.size  # should be 2 (out − Y) / (N M)
    d2 = (d_out @ params["W3"].T) * (1 - a2**2)
    d1 = (d2 @ params["W2"].T) * (1 - a1**2)
    return {"W1": X.T @ d1, "b1": d1.sum(axis=0), "W2": a1.T @ d2, "b2": d2.sum(axis=0),
            "W3": a2.T @ d_out, "b3": d_out.sum(axis=0)}
