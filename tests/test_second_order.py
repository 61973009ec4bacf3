"""Second derivatives: manual_grad's Hessian- and Gauss-Newton-vector products, derived by hand with the
R-operator, against jax_reference's from autodiff alone; with the witnesses that need no autodiff (a
Hessian is symmetric, a Gauss-Newton matrix positive semi-definite, and H v is the derivative of the gradient
along v, by central differences)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jax_reference as jr
import manual_grad as mg
from jax_reference.cases import make_case
from jax_reference.tolerances import agrees, normwise_error, product_scales, tolerance

from .strategies import deep_cases


def direction(params, seed):
    rng = np.random.default_rng(seed)
    return {k: rng.standard_normal(p.shape).astype(p.dtype) for k, p in params.items()}


def assert_products_agree(case, seed, product):
    params, X, y, lam, activation = case
    v = direction(params, seed)
    hand, auto = getattr(mg, product)(params, v, X, y, lam, activation), getattr(jr, product)(params, v, X, y, lam, activation)
    scales = product_scales(params, v, X, y, activation)
    for name in params:
        assert hand[name].shape == params[name].shape and hand[name].dtype == X.dtype, name
        diff, rel = normwise_error(hand[name], auto[name])
        assert agrees(hand[name], auto[name], X.dtype, scales[name]), (
            f"{product}: {name} differs by {diff:.3g} (relative {rel:.3g}), tolerance {tolerance(X.dtype)}")


@pytest.mark.parametrize("product", ["hvp", "gnvp"])
@pytest.mark.parametrize("activation", [*mg.ACTIVATIONS, ("relu", "tanh")])
def test_products_agree_with_autodiff(activation, product):
    hidden = (6, 5) if isinstance(activation, tuple) else (6,)
    params, X, y = make_case(np.random.default_rng(7), 9, 4, hidden, 3)
    assert_products_agree((params, X, y, 0.3, activation), 8, product)


@pytest.mark.slow
@settings(max_examples=100)  # each new depth, bucket and dtype compiles: 100 examples take about 5 s
@given(deep_cases(), st.integers(0, 2**32 - 1), st.sampled_from(["hvp", "gnvp"]))
def test_products_agree_with_autodiff_at_any_depth(case, seed, product):
    assert_products_agree(case, seed, product)


def float64_case(activation, hidden=(6, 5), seed=0, lam=0.3):
    params, X, y = make_case(np.random.default_rng(seed), 9, 4, hidden, 3)
    return params, X, y, lam, activation


def inner(u, w):
    return sum(float(np.sum(u[k] * w[k])) for k in u)


@pytest.mark.parametrize("activation", mg.ACTIVATIONS)
def test_the_hessian_is_symmetric_and_the_gauss_newton_matrix_positive(activation):
    params, X, y, lam, _ = float64_case(activation)
    u, v = direction(params, 1), direction(params, 2)
    Hu, Hv = mg.hvp(params, u, X, y, lam, activation), mg.hvp(params, v, X, y, lam, activation)
    assert abs(inner(u, Hv) - inner(v, Hu)) <= 1e-12 * (abs(inner(u, Hv)) + 1)
    Gu, Gv = mg.gnvp(params, u, X, y, lam, activation), mg.gnvp(params, v, X, y, lam, activation)
    assert abs(inner(u, Gv) - inner(v, Gu)) <= 1e-12 * (abs(inner(u, Gv)) + 1)
    assert inner(v, Gv) > 0 and inner(u, Gu) > 0  # λ > 0: positive definite on the weights


@pytest.mark.parametrize("activation", mg.ACTIVATIONS)
def test_hv_is_the_derivative_of_the_gradient_along_v(activation):
    """Central differences of the hand gradient, no autodiff: (g(θ + hv) − g(θ − hv)) / 2h = H v + O(h²)."""
    params, X, y, lam, _ = float64_case(activation, seed=3)
    v = direction(params, 4)
    h = 1e-5
    plus = mg.grad({k: p + h * v[k] for k, p in params.items()}, X, y, lam, activation)
    minus = mg.grad({k: p - h * v[k] for k, p in params.items()}, X, y, lam, activation)
    Hv = mg.hvp(params, v, X, y, lam, activation)
    for name in params:
        fd = (plus[name] - minus[name]) / (2 * h)
        assert np.linalg.norm(fd - Hv[name]) <= 1e-6 * (np.linalg.norm(Hv[name]) + 1), name


def test_the_penalty_adds_2_lam_v_to_the_weights_alone():
    params, X, y, _, activation = float64_case("tanh")
    v = direction(params, 5)
    for product in (mg.hvp, mg.gnvp):
        with_penalty, without = product(params, v, X, y, 0.7, activation), product(params, v, X, y, 0.0, activation)
        for name in params:
            expected = 1.4 * v[name] if name.startswith("W") else 0 * v[name]
            assert np.allclose(with_penalty[name] - without[name], expected, rtol=1e-12, atol=1e-12), name


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "softplus"])
def test_the_gauss_newton_product_is_not_the_hessians(activation):
    """The two differ by the network's own curvature: a Hessian check that accepted one for the other could
    not fail (with relu both still differ, by the cross terms in δ)."""
    params, X, y, lam, _ = float64_case(activation)
    v = direction(params, 6)
    H, G = mg.hvp(params, v, X, y, lam, activation), jr.gnvp(params, v, X, y, lam, activation)
    assert any(normwise_error(H[k], G[k])[1] > 1e-3 for k in params)


@pytest.mark.parametrize("v, error, words", [
    ("not a dict", TypeError, "v must be a dict with the keys of params"),
    ({"W1": np.ones((4, 6))}, ValueError, "v must have the keys of params"),
    ("shape", ValueError, "v['W1']"),
    ("dtype", TypeError, "v['W1'] has dtype float32 but params have float64"),
    ("nan", ValueError, "v['b2']"),
])
def test_a_bad_direction_is_refused_by_name(v, error, words):
    params, X, y, lam, activation = float64_case("tanh")
    good = direction(params, 0)
    v = {"shape": {**good, "W1": np.ones((3, 3))}, "dtype": {**good, "W1": good["W1"].astype(np.float32)},
         "nan": {**good, "b2": np.full_like(good["b2"], np.nan)}}.get(v, v) if isinstance(v, str) else v
    for product in (mg.hvp, jr.hvp):
        with pytest.raises(error, match=__import__("re").escape(words)):
            product(params, v, X, y, lam, activation)


# ---- gradcheck --hvp and --gnvp ----

from gradcheck import check_products  # noqa: E402
from gradcheck.cli import main  # noqa: E402
from gradcheck.isolation.loader import load  # noqa: E402

from .paths import EXAMPLES  # noqa: E402

CASES = 12  # four per activation: λ = 0 and λ > 0, relu kinks


def example(function):
    return load(f"{EXAMPLES}/second_order/two_layer_hvp.py:{function}")[0]


@pytest.mark.parametrize("product", ["hvp", "gnvp"])
def test_manual_grads_products_pass_and_the_hessians_is_witnessed(product):
    report = check_products(getattr(mg, product), product=product, cases=CASES, depth=3)
    assert report["ok"] and report["verdict"] == "pass", report["hint"]
    assert report["config"]["mode"] == product
    assert (report["witness"]["cases_checked"] > 0) == (product == "hvp")


def test_one_product_given_for_the_other_is_named():
    report = check_products(mg.gnvp, product="hvp", cases=CASES)
    assert not report["ok"]
    assert all("matches the Gauss-Newton product" in p["diagnosis"] for p in report["parameters"].values() if not p["ok"])
    report = check_products(mg.hvp, product="gnvp", cases=CASES)
    assert not report["ok"]
    assert all("matches the full Hessian-vector product" in p["diagnosis"] for p in report["parameters"].values()
               if not p["ok"])


def test_the_usual_second_order_slips_are_named():
    assert check_products(example("hvp"), cases=CASES)["ok"]
    no_phi_second = check_products(example("hvp_without_phi_second"), cases=CASES)["parameters"]
    assert not no_phi_second["W1"]["ok"] and no_phi_second["W2"]["ok"]  # φ'' enters R{δ2} alone
    assert "wrong only with sigmoid and tanh, right where φ'' is 0" in no_phi_second["W1"]["diagnosis"]
    penalty = check_products(example("hvp_penalty_once"), cases=CASES)["parameters"]
    assert "the penalty's term is λV_W1, expected 2λV" in penalty["W1"]["diagnosis"] and penalty["b1"]["ok"]
    diagonal = check_products(example("hvp_softmax_diagonal"), cases=CASES)["parameters"]
    assert all("matches the softmax's Jacobian taken as diag(a)" in p["diagnosis"] for p in diagonal.values())
    prime = check_products(example("hvp_phi_prime_for_second"), cases=CASES)["parameters"]
    assert prime["W2"]["ok"] and prime["b2"]["ok"]  # R{δ2} reaches W1 and b1 alone
    assert all("R{δ} propagated with φ' where φ'' belongs" in prime[k]["diagnosis"] for k in ("W1", "b1"))


@pytest.mark.parametrize("depth", [3, pytest.param(4, marks=pytest.mark.slow)])
def test_phi_prime_for_phi_second_is_named_at_any_depth(depth, monkeypatch):
    """manual_grad's own R-operator with φ' in every hidden layer's curvature term: every layer below the top is
    wrong, and each is named for that slip."""
    from manual_grad import second_order

    # A copy: _products scales the curvature in place, and φ' itself is used after it.
    monkeypatch.setattr(second_order, "SECOND", {act: (lambda a, prime: prime.copy()) for act in mg.ACTIVATIONS})

    def slipped(params, v, X, y, lam, activation):
        _, X, y, lam, activations = second_order.check_loss_inputs(params, X, y, lam, activation)
        return second_order._products(params, v, X, y, lam, activations, exact=True)

    report = check_products(slipped, depth=depth, cases=CASES)
    wrong = [k for k, p in report["parameters"].items() if not p["ok"]]
    assert wrong == [f"{w}{l}" for l in range(1, depth) for w in "Wb"]
    assert all("R{δ} propagated with φ' where φ'' belongs" in report["parameters"][k]["diagnosis"] for k in wrong)


def test_product_options_that_do_not_fit_are_usage_errors(capsys):
    for argv, words in [(["--hvp", "--gnvp"], "--hvp and --gnvp check two different products"),
                        (["--hvp", "--stages"], "--stages checks a gradient's δ"),
                        (["g.py:g", "--hvp", "--shapes", "W: D"], "--hvp belong to the seed model's mode")]:
        assert main(argv) == 2
        assert words in capsys.readouterr().err, argv


def test_a_reference_product_its_finite_differences_contradict_is_no_verdict(monkeypatch):
    """The witness needs no autodiff: a reference H v 1% off disagrees with the central differences of
    manual_grad's gradient along random directions, and the report says no verdict, never a pass."""
    from gradcheck.problems import seed_products

    class Skewed:
        def __getattr__(self, name):
            return getattr(jr, name)

        @staticmethod
        def hvp(*args):
            return {k: 1.01 * a for k, a in jr.hvp(*args).items()}

    monkeypatch.setattr(seed_products, "jr", Skewed())
    report = check_products(mg.hvp, cases=6, activations="tanh")
    assert report["verdict"] == "no verdict" and not report["ok"]


# ---- the loss mode's Hessian-vector product ----

def logistic(function):
    return load(f"{EXAMPLES}/second_order/logistic_regression.py:{function}")[0]


def test_a_users_hessian_vector_product_is_checked_against_its_own_loss():
    loss, sample = logistic("loss"), logistic("sample")
    right = check_products(logistic("hvp"), loss=loss, sample=sample, cases=4)
    assert right["ok"], right["hint"]
    assert all(t["candidate"]["slope"] > 1.8 for t in right["witness"]["taylor"].values())
    wrong = check_products(logistic("hvp_penalty_forgotten"), loss=loss, sample=sample, cases=4)
    assert not wrong["parameters"]["w"]["ok"] and wrong["parameters"]["b"]["ok"]
    assert "a multiple of v_w itself, as a penalty's Hessian times v would be" in wrong["parameters"]["w"]["diagnosis"]
    assert wrong["witness"]["taylor"]["w"]["candidate"]["slope"] < 1.2


def test_a_users_product_that_is_not_symmetric_is_the_hessian_of_nothing():
    """The loss mode asks the candidate along u too: b's row without its coupling to w breaks ⟨u, C(v)⟩ =
    ⟨v, C(u)⟩; the right product, in float64 and float32, is not held to it wrongly."""
    loss, sample = logistic("loss"), logistic("sample")
    report = check_products(logistic("hvp_bias_alone"), loss=loss, sample=sample, cases=4)
    assert "symmetry" in [f["kind"] for f in report["findings"]] and not report["ok"]
    for dtype in (np.float64, np.float32):
        assert check_products(logistic("hvp"), loss=loss, sample=sample, cases=4, dtype=dtype)["findings"] == []


def test_a_users_loss_has_no_gauss_newton_product(capsys):
    with pytest.raises(ValueError, match="product must be 'hvp' with loss"):
        check_products(logistic("hvp"), product="gnvp", loss=logistic("loss"), sample=logistic("sample"))
    assert main(["x.py:h", "--gnvp", "--loss", "x.py:l", "--sample", "x.py:s"]) == 2
    assert "--gnvp needs the logits" in capsys.readouterr().err


def test_a_product_that_is_not_symmetric_is_the_hessian_of_nothing_and_fails():
    """⟨u, C(v)⟩ = ⟨v, C(u)⟩ holds for any function's Hessian: a candidate that keeps R{a}ᵀ δ but drops its
    partner δ Vᵀ breaks it, and the report says so; a right product, and one wrong but symmetric (its φ''
    term dropped), are not held to it wrongly."""
    from gradcheck import junit

    report = check_products(example("hvp_one_cross_term"), cases=CASES)
    assert not report["ok"] and [f["kind"] for f in report["findings"]] == ["symmetry"]
    assert report["findings"][0]["cases"] == CASES and "not the Hessian of any function" in report["findings"][0]["words"]
    assert 'name="candidate.symmetry"' in junit(report)
    assert check_products(mg.hvp, cases=CASES, dtype=np.float32)["findings"] == []
    assert check_products(example("hvp_without_phi_second"), cases=CASES)["findings"] == []


def test_a_candidate_whose_second_call_fails_cannot_pass():
    """The symmetry check calls the candidate twice per case: a candidate right on its first call that raises on
    its second fails the case, never passes it."""
    calls = []

    def right_once(params, v, X, y, lam, activation):
        calls.append(1)
        if len(calls) % 2 == 0:
            raise RuntimeError("second call")
        return mg.hvp(params, v, X, y, lam, activation)

    report = check_products(right_once, cases=4)
    assert report["verdict"] == "fail" and report["findings"][0]["kind"] == "second call"
    assert all(p["ok"] for p in report["parameters"].values())  # its values agreed: the finding is what fails it
