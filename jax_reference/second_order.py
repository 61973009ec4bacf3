"""The Hessian- and Gauss-Newton-vector products of J~ from autodiff alone, independent of the hand derivation.

    H v = jax.jvp(jax.grad(loss_fn), θ, v): forward-over-reverse.
    G v = J_zᵀ H_z J_z v + 2λ V: J_z v by jax.linearize of the logits z(θ), H_z (J_z v) by forward-over-reverse
          of the mean cross-entropy in the logits alone, J_zᵀ by jax.linear_transpose of that linearisation;
          plus the penalty's own Hessian, 2λ on the weights.

Inputs are zero-padded to their bucket, as api.py pads them for the gradient, and v with them (zero in the
padding): the padded loss restricted to the real parameters is the loss, so the real part of its products is
the product. One compilation then serves every shape of a bucket, depth and dtype, and every mix of
activations. float64 inputs are computed in float64 whatever the global setting. Inputs are checked by
manual_grad.validate, as for the gradient; results come back as NumPy arrays of the input dtype.
"""

import jax
import numpy as np

from manual_grad.validate import check_direction, check_loss_inputs

from . import api
from .fast_compile import Jitted
from .model import forward_fn, masked_data_loss, masked_loss_fn


def _hvp(params, v, X, y, n, k, lam, codes):
    gradient = jax.grad(masked_loss_fn)
    return jax.jvp(lambda p: gradient(p, X, y, n, k, lam, codes), (params,), (v,))[1]


def _gnvp(params, v, X, y, n, k, lam, codes):
    z, logits_jvp = jax.linearize(lambda p: forward_fn(p, X, codes), params)
    H_Jv = jax.jvp(jax.grad(lambda logits: masked_data_loss(logits, y, n, k)), (z,), (logits_jvp(v),))[1]
    (product,) = jax.linear_transpose(logits_jvp, params)(H_Jv)
    return {name: product[name] + 2 * lam * v[name] if name.startswith("W") else product[name] for name in params}


# Compiled as the gradient is (api.py): with XLA's fast-compile options where the padded arrays are small.
_jitted = {"hvp": Jitted(_hvp), "gnvp": Jitted(_gnvp)}


def _run(product, params, v, X, y, lam, activation):
    params, X, y, lam, activations = check_loss_inputs(params, X, y, lam, activation)
    v = check_direction(v, params)
    with jax.enable_x64(True):
        problem = api._padded_problem(params, X, y, activations)
        result = _jitted[product](api._small(*problem[:2]), problem[0], api._pad_params(v), *problem[1:],
                                  np.asarray(lam, X.dtype), api._codes(activations))
        return api._unpad(result, params)


def hvp(params, v, X, y, lam=0.0, activation="sigmoid"):
    """H v from jax.jvp of jax.grad. Args and returns: as `manual_grad.hvp`."""
    return _run("hvp", params, v, X, y, lam, activation)


def gnvp(params, v, X, y, lam=0.0, activation="sigmoid"):
    """G v from jax.linearize of the logits. Args and returns: as `manual_grad.gnvp`."""
    return _run("gnvp", params, v, X, y, lam, activation)
