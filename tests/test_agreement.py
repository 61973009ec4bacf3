"""manual_grad agrees with jax.grad of the JAX reference, for J and J~ separately."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jax_reference as jr
import manual_grad as mg
from jax_reference.cases import make_case
from jax_reference.tolerances import agrees, normwise_error, rounding_scales, tolerance, value_scales

from .strategies import cases, deep_cases, positive_lams


def assert_agree(candidate, reference, case, what):
    params, X, _, _, activation = case
    scales = rounding_scales(params, X, activation)
    assert list(candidate) == list(params) == list(reference), what
    for name in params:
        assert candidate[name].shape == reference[name].shape, (what, name)
        assert candidate[name].dtype == X.dtype, (what, name, candidate[name].dtype)
        diff, rel = normwise_error(candidate[name], reference[name])
        assert agrees(candidate[name], reference[name], X.dtype, scales[name]), (
            f"{what}: d{name} differs by {diff:.3g} (relative {rel:.3g}), tolerance {tolerance(X.dtype)}"
        )


@pytest.mark.slow
@settings(max_examples=400)
@given(cases(lam=positive_lams.map(lambda _: 0.0)))
def test_J_and_its_gradient_agree(case):
    params, X, y, _, activation = case
    J, g = mg.value_and_grad(params, X, y, 0.0, activation)
    J_ref, g_ref = jr.value_and_grad(params, X, y, 0.0, activation)
    assert J.dtype == X.dtype and J_ref.dtype == X.dtype
    assert agrees(J, J_ref, X.dtype, value_scales(params, X)["J"]), (J, J_ref)
    assert_agree(g, g_ref, case, "J")


@pytest.mark.slow
@settings(max_examples=400)
@given(cases(lam=positive_lams))
def test_J_tilde_and_its_gradient_agree(case):
    params, X, y, lam, activation = case
    J, g = mg.value_and_grad(params, X, y, lam, activation)
    J_ref, g_ref = jr.value_and_grad(params, X, y, lam, activation)
    assert agrees(J, J_ref, X.dtype, value_scales(params, X)["J"]), (J, J_ref)
    assert_agree(g, g_ref, case, "J~")


@pytest.mark.slow
@settings(max_examples=200)
@given(cases(lam=positive_lams))
def test_penalty_adds_exactly_2_lam_W(case):
    """∂J~/∂θ − ∂J/∂θ is 2λW for weights and 0 for biases, on both sides: isolates the regulariser."""
    params, X, y, lam, activation = case
    for module in (mg, jr):
        g = module.grad(params, X, y, 0.0, activation)
        g_tilde = module.grad(params, X, y, lam, activation)
        penalty_grad = {
            "W1": 2 * lam * params["W1"],
            "b1": np.zeros_like(params["b1"]),
            "W2": 2 * lam * params["W2"],
            "b2": np.zeros_like(params["b2"]),
        }
        # The difference is taken of two computed gradients: its error is
        # relative to their size, not to the (possibly tiny) penalty term.
        scales = rounding_scales(params, X, activation)
        for name in mg.PARAM_NAMES:
            diff, _ = normwise_error(g_tilde[name] - g[name], penalty_grad[name])
            tol = tolerance(X.dtype)
            size = np.linalg.norm(np.asarray(g_tilde[name], np.float64)) + np.linalg.norm(g[name])
            assert diff <= tol.atol + tol.rtol * (size + 2 * scales[name]), (module.__name__, name, diff)
        J_gap = module.loss(params, X, y, lam, activation) - module.loss(params, X, y, 0.0, activation)
        penalty = lam * (np.sum(params["W1"].astype(np.float64) ** 2) + np.sum(params["W2"].astype(np.float64) ** 2))
        assert abs(J_gap - penalty) <= tolerance(X.dtype).rtol * (abs(penalty) + 1), (module.__name__, J_gap, penalty)


@settings(max_examples=100)
@given(cases())
def test_forward_agrees(case):
    params, X, _, _, activation = case
    z3 = mg.forward(params, X, activation)
    assert z3.shape == (X.shape[0], params["W2"].shape[1])
    assert agrees(z3, jr.forward(params, X, activation), X.dtype, value_scales(params, X)["z"])


def assert_stages_agree(case):
    """Every δ_l = ∂J/∂z_l of the derivation, delta{L+1} first, against jax.grad of J in the z_l."""
    params, X, y, _, activation = case
    s, s_ref = mg.stages(params, X, y, activation), jr.stages(params, X, y, activation)
    L, N = len(params) // 2, X.shape[0]
    assert list(s) == list(s_ref) == [f"delta{l}" for l in range(L + 1, 1, -1)]
    scales = rounding_scales(params, X, activation)
    for l in range(L + 1, 1, -1):
        name = f"delta{l}"
        assert s[name].shape == s_ref[name].shape == (N, params[f"W{l - 1}"].shape[1]), name
        assert agrees(s[name], s_ref[name], X.dtype, scales[name]), name


@pytest.mark.slow
@settings(max_examples=100)
@given(cases())
def test_stages_agree(case):
    """δ3 and δ2 of the hand derivation against jax.grad and jax.vjp of the forward pass."""
    assert_stages_agree(case)


def assert_fast_path_computes_the_derivation(case, what):
    """value_and_grad (in place, a block of rows at a time) against the line-by-line derivation it rearranges."""
    params, X, y, lam, activation = case
    assert_agree(mg.grad(params, X, y, lam, activation), mg.derivation_grad(params, X, y, lam, activation), case, what)


@settings(max_examples=300)
@given(cases())
def test_fast_path_computes_the_derivation(case):
    assert_fast_path_computes_the_derivation(case, "fast path")


# Networks of any depth: L from 2 to 6, every width from 1 to 32, mixed activations.


@pytest.mark.slow
@settings(max_examples=300)
@given(deep_cases())
def test_deep_J_tilde_and_its_gradient_agree(case):
    params, X, y, lam, activation = case
    J, g = mg.value_and_grad(params, X, y, lam, activation)
    J_ref, g_ref = jr.value_and_grad(params, X, y, lam, activation)
    assert J.dtype == X.dtype and agrees(J, J_ref, X.dtype, value_scales(params, X)["J"]), (J, J_ref)
    assert_agree(g, g_ref, case, "deep J~")


@pytest.mark.slow
@settings(max_examples=150)
@given(deep_cases())
def test_deep_stages_agree(case):
    """Every δ_l = ∂J/∂z_l of the recursion against jax.grad of J in the z_l."""
    assert_stages_agree(case)


@settings(max_examples=200)
@given(deep_cases())
def test_deep_fast_path_computes_the_recursion(case):
    assert_fast_path_computes_the_derivation(case, "deep fast path")


@settings(max_examples=100)
@given(cases(lam=positive_lams | st.just(0.0)))
def test_the_recursion_at_two_layers_is_the_two_layer_derivation(case):
    """deep.backward at L = 2 against model._backward, which a learner reads first. They are the same
    lines; held to the tolerance, not to the bit, since a BLAS need not repeat a product bit for bit."""
    from manual_grad import deep, model
    from manual_grad.validate import check_loss_inputs

    params, X, y, lam, activations = check_loss_inputs(*case)
    J, grads, deltas = model._backward(params, X, y, lam, activations[0])
    J_deep, grads_deep, deltas_deep = deep.backward(params, X, y, lam, activations)
    assert agrees(J, J_deep, X.dtype, value_scales(params, X)["J"])
    assert_agree(grads, grads_deep, case, "deep at L = 2")
    scales = rounding_scales(params, X, activations)
    assert list(deltas) == list(deltas_deep) == ["delta3", "delta2"]
    for name in deltas:
        assert agrees(deltas[name], deltas_deep[name], X.dtype, scales[name]), name


# The streamed fast path, held to the line-by-line derivation where blocks begin and end.

BLOCK = 16


@pytest.mark.parametrize("N", [BLOCK - 1, BLOCK, BLOCK + 1, 5, 3 * BLOCK, 3 * BLOCK + 2])
@pytest.mark.parametrize("hidden", [7, (7, 4)], ids=["two layers", "three layers"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_blocks_of_rows_add_up_to_the_derivation(N, hidden, dtype):
    from manual_grad import fast
    from manual_grad.validate import check_loss_inputs

    params, X, y = make_case(np.random.default_rng(N), N, 5, hidden, 3, dtype=dtype)
    activation = "tanh" if isinstance(hidden, int) else ("relu", "softplus")
    case = (params, X, y, 0.2, activation)
    J, g = fast.value_and_grad(*check_loss_inputs(*case), rows=BLOCK)
    J_ref, g_ref, _ = mg.deep.backward(*check_loss_inputs(*case))
    assert J.dtype == X.dtype and agrees(J, J_ref, X.dtype, value_scales(params, X)["J"]), (J, J_ref)
    assert_agree(g, g_ref, case, f"blocks of {BLOCK} rows, N = {N}")
