"""Newton's method for regularised logistic regression: the loss, and its Hessian-vector product derived by
hand, checked in gradcheck's loss mode. The Hessian is the classic XᵀSX/N + 2λI, S = diag(σ(z)(1 − σ(z))).

    gradcheck examples/second_order/logistic_regression.py:hvp --hvp \
        --loss examples/second_order/logistic_regression.py:loss --sample examples/second_order/logistic_regression.py:sample

params: w (D,), b (0-d); data: X (N, D), y (N,) in {0, 1}; z = X w + b.
J = (1/N) Σ_i [log(1 + e^{z_i}) − y_i z_i] + λ ‖w‖².
H v = [Xᵀ S (X v_w + v_b) / N + 2λ v_w,  Σ_i S_ii (X v_w + v_b)_i / N].
"""

import numpy as np

LAM = 0.1


def loss(params, X, y):
    z = X @ params["w"] + params["b"]
    return np.mean(np.logaddexp(0, z) - y * z) + LAM * np.sum(params["w"] ** 2)


def hvp(params, v, X, y):
    z = X @ params["w"] + params["b"]
    s = 0.5 + 0.5 * np.tanh(0.5 * z)  # σ(z), without overflow
    S = s * (1 - s)  # the diagonal of S: σ'(z)
    u = X @ v["w"] + v["b"]  # J v: the logits' change along v
    N = X.shape[0]
    return {"w": X.T @ (S * u) / N + 2 * LAM * v["w"], "b": np.sum(S * u) / N}


def hvp_penalty_forgotten(params, v, X, y):
    """The data term's Hessian XᵀSX/N alone: the penalty's 2λI forgotten."""
    z = X @ params["w"] + params["b"]
    s = 0.5 + 0.5 * np.tanh(0.5 * z)
    S = s * (1 - s)
    u = X @ v["w"] + v["b"]
    N = X.shape[0]
    return {"w": X.T @ (S * u) / N, "b": np.sum(S * u) / N}


def hvp_bias_alone(params, v, X, y):
    """b's row of the Hessian taken as Σ S_ii v_b / N alone, its coupling 1ᵀSX v_w / N to w forgotten, while w's row
    keeps the coupling to b: a matrix that is not symmetric, the Hessian of no function."""
    z = X @ params["w"] + params["b"]
    s = 0.5 + 0.5 * np.tanh(0.5 * z)
    S = s * (1 - s)
    u = X @ v["w"] + v["b"]
    N = X.shape[0]
    return {"w": X.T @ (S * u) / N + 2 * LAM * v["w"], "b": np.sum(S) * v["b"] / N}


def sample(rng):
    N, D = int(rng.integers(3, 20)), int(rng.integers(2, 8))
    params = {"w": rng.standard_normal(D), "b": np.array(rng.standard_normal())}
    return params, (rng.standard_normal((N, D)), rng.integers(0, 2, N).astype(float))
