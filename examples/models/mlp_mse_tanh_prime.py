"""The MLP's gradient with tanh's derivative taken as 1 − a where it is 1 − a² (in the second layer): no loss has
this gradient, which `--integrable` shows with no loss given.

    gradcheck examples/models/mlp_mse_tanh_prime.py:grad --sample examples/models/mlp_mse.py:sample --integrable
"""

from mlp_mse import forward


def grad(params, X, Y):
    a1, a2, out = forward(params, X)
    d_out = 2 * (out - Y) / out.size
    d2 = (d_out @ params["W3"].T) * (1 - a2)  # tanh'(z) = 1 − tanh(z)², not 1 − tanh(z)
    d1 = (d2 @ params["W2"].T) * (1 - a1**2)
    return {"W1": X.T @ d1, "b1": d1.sum(axis=0), "W2": a1.T @ d2, "b2": d2.sum(axis=0),
            "W3": a2.T @ d_out, "b3": d_out.sum(axis=0)}
