"""gradcheck names the wrong parameter and the kind of mistake, for deliberately wrong candidates
(the library API, candidates called in this process)."""

import numpy as np
import pytest

import manual_grad as mg
from gradcheck import UsageError, assert_gradients_agree, check_gradients
from gradcheck.isolation.loader import load
from gradcheck.problems.seed_cases import (DEFAULT_ACTIVATIONS, LARGE_LOGIT, cases_to_cover, draw_cases, not_covered,
                                         requirements)

from .paths import EXAMPLES

CASES = 30  # ten per activation: λ = 0 and λ > 0, every label set, relu kinks, large logits


def altered(**changes):
    """mg.grad with some parameters' gradients replaced by change(g, params, X, y, lam, activation)."""

    def candidate(params, X, y, lam, activation):
        g = mg.grad(params, X, y, lam, activation)
        return {**g, **{k: f(g[k], params, X, y, lam, activation) for k, f in changes.items()}}

    return candidate


def data_term_scaled(factor):
    """A candidate whose data term (λ = 0 part) is factor(N, K) times the right one, the penalty right."""

    def candidate(params, X, y, lam, activation):
        g = mg.grad(params, X, y, 0.0, activation)
        c = factor(X.shape[0], params["W2"].shape[1])
        return {k: c * v + (2 * lam * params[k] if k.startswith("W") else 0) for k, v in g.items()}

    return candidate


def learner_network(params, X, y, lam, activation, *, relu_prime=None, shift=True):
    """A learner's own backward pass; relu_prime and shift let a test put in one mistake."""
    N = X.shape[0]
    z2 = X @ params["W1"] + params["b1"]
    a2 = mg.activations.TABLE[activation][0](z2)
    z3 = a2 @ params["W2"] + params["b2"]
    with np.errstate(over="ignore", invalid="ignore"):  # as in a learner's session, without warnings as errors
        e = np.exp(z3 - z3.max(axis=1, keepdims=True) if shift else z3)
        a3 = e / e.sum(axis=1, keepdims=True)
    delta3 = (a3 - np.eye(a3.shape[1], dtype=X.dtype)[y]) / N
    phi_prime = relu_prime(z2) if relu_prime and activation == "relu" else mg.activations.TABLE[activation][1](a2)
    delta2 = (delta3 @ params["W2"].T) * phi_prime
    return {"W1": X.T @ delta2 + 2 * lam * params["W1"], "b1": delta2.sum(axis=0),
            "W2": a2.T @ delta3 + 2 * lam * params["W2"], "b2": delta3.sum(axis=0)}


def relu_prime_at_zero_is_one(params, X, y, lam, activation):
    return learner_network(params, X, y, lam, activation, relu_prime=lambda z2: (z2 >= 0).astype(z2.dtype))


def unshifted_softmax(params, X, y, lam, activation):
    return learner_network(params, X, y, lam, activation, shift=False)


def phi_prime_left_out(params, X, y, lam, activation):
    g = mg.grad(params, X, y, lam, activation)
    delta2 = mg.stages(params, X, y, activation)["delta3"] @ params["W2"].T
    return {**g, "W1": X.T @ delta2 + 2 * lam * params["W1"], "b1": delta2.sum(axis=0)}


def load_example(name):
    return load(f"{EXAMPLES / name}.py:grad")[0]


# (candidate, {parameter: words its diagnosis must contain}); the others must agree.
WRONG = {
    "factor N": (altered(W2=lambda g, p, X, *_: X.shape[0] * g), {"W2": "N times too large"}),
    "factor 1/N": (altered(b2=lambda g, p, X, *_: g / X.shape[0]), {"b2": "N times too small"}),
    "factor 2": (altered(W1=lambda g, *_: 2 * g), {"W1": "off by a constant factor 2"}),
    "factor 1/2": (altered(b1=lambda g, *_: g / 2), {"b1": "off by a constant factor 1/2"}),
    # Near overflow, and RuntimeWarnings are errors in this suite: the diagnosis must neither warn nor
    # write 1e300 as an integer fraction.
    "factor 1e300": (altered(W2=lambda g, *_: 1e300 * g), {"W2": "off by a constant factor 1e+300"}),
    "sign": (altered(b2=lambda g, *_: -g), {"b2": "sign flipped"}),
    "divided by K": (data_term_scaled(lambda N, K: N / K),
                     dict.fromkeys(mg.PARAM_NAMES, "N/K times the reference: divided by K")),
    "transposed": (altered(W1=lambda g, *_: g.T), {"W1": "transposed: returned shape"}),
    "no batch sum": (altered(b2=lambda g, p, X, y, lam, act: mg.stages(p, X, y, act)["delta3"]),
                     {"b2": "the sum over the N = "}),
    "keepdims": (altered(b1=lambda g, *_: g[None, :]), {"b1": "extra dimensions of size 1"}),
    "b1 and b2 swapped": (lambda *a: {**mg.grad(*a), "b1": mg.grad(*a)["b2"], "b2": mg.grad(*a)["b1"]},
                          {"b1": "has b2's shape and values", "b2": "has b1's shape and values"}),
    "float32": (altered(W2=lambda g, *_: g.astype(np.float32)), {"W2": "the dtype is float32 for float64 inputs"}),
    "missing": (lambda *a: {k: v for k, v in mg.grad(*a).items() if k != "b1"}, {"b1": "missing from the candidate's result"}),
    "list": (altered(b2=lambda g, *_: g.tolist()), {"b2": "not an array (a list of"}),
    "lam W": (altered(W2=lambda g, p, X, y, lam, act: g - lam * p["W2"]), {"W2": "penalty gradient is λW2, expected 2λW2"}),
    "no penalty": (altered(W1=lambda g, p, X, y, lam, act: g - 2 * lam * p["W1"]), {"W1": "the penalty gradient 2λW1 is missing"}),
    "penalty over N": (altered(W1=lambda g, p, X, y, lam, act: g - 2 * lam * p["W1"] * (1 - 1 / X.shape[0])),
                       {"W1": "penalty gradient is 2λW1/N, expected 2λW1"}),
    "bias penalty": (altered(b1=lambda g, p, X, y, lam, act: g + 2 * lam * p["b1"]), {"b1": "regularises the bias (adds 2λb1)"}),
    "only lam > 0": (altered(W2=lambda g, p, X, y, lam, act: g + lam**2 * p["W2"]), {"W2": "wrong only when λ > 0"}),
    "only lam = 0": (altered(b2=lambda g, p, X, y, lam, act: g + (lam == 0) * np.sin(np.arange(g.size))),
                     {"b2": "wrong only when λ = 0"}),
    "relu kink": (relu_prime_at_zero_is_one, {"W1": "relu kinks", "b1": "relu kinks"}),
    "unshifted softmax": (unshifted_softmax, dict.fromkeys(mg.PARAM_NAMES, "only in cases with large logits")),
    "phi for phi'": (altered(b1=lambda g, p, X, y, lam, act: (
        (mg.stages(p, X, y, act)["delta3"] @ p["W2"].T) * mg.activations.TABLE[act][0](X @ p["W1"] + p["b1"])).sum(0)),
        {"b1": "φ(z2) where φ'(z2) belongs"}),
    "phi' left out": (phi_prime_left_out, {"W1": "φ'(z2) left out", "b1": "φ'(z2) left out"}),
    "softmax over the batch": (load_example("seed_erratum_batch_softmax"),
                               dict.fromkeys(mg.PARAM_NAMES, "a softmax normalised over the N examples")),
    "activation ignored": (lambda p, X, y, lam, act: mg.grad(p, X, y, lam, "sigmoid"),
                           dict.fromkeys(mg.PARAM_NAMES, "matches the sigmoid network whatever the activation")),
}


@pytest.mark.parametrize("candidate, expected", WRONG.values(), ids=WRONG.keys())
def test_each_mistake_is_named(candidate, expected):
    report = check_gradients(candidate, cases=CASES)
    assert not report["ok"]
    for name, p in report["parameters"].items():
        if name in expected:
            assert not p["ok"] and expected[name] in p["diagnosis"], (name, p["diagnosis"])
        else:
            assert p["ok"] and p["diagnosis"] == "agrees", (name, p["diagnosis"])


def test_an_error_in_one_activation_is_traced_to_its_derivative():
    report = check_gradients(load_example("tanh_derivative_of_z"), cases=CASES)
    for name in ("W1", "b1"):
        assert "wrong only with activation tanh: check its derivative" in report["parameters"][name]["diagnosis"]
    assert report["hint"] == "W2 and b2 agree, so δ3 is right: look at δ2 = (δ3 W2ᵀ) ⊙ φ'(z2)"


def test_a_structural_failure_gets_its_likely_cause_not_a_chain_rule_hint():
    report = check_gradients(lambda *a: {k: v.astype(np.float32) for k, v in mg.grad(*a).items()}, cases=6)
    assert all(p["kind"] == "dtype" and "right to its precision" in p["diagnosis"] for p in report["parameters"].values())
    assert "computes in float32" in report["hint"] and "δ3" not in report["hint"]


def test_an_ignored_activation_is_said_once_as_the_cause():
    report = check_gradients(WRONG["activation ignored"][0], cases=CASES)
    assert report["hint"].startswith("the activation argument looks ignored: the candidate computes the sigmoid")


def test_a_non_dict_result_is_said_once_as_returned_not_raised():
    g = lambda *a: tuple(mg.grad(*a).values())  # noqa: E731
    report = check_gradients(g, cases=4)
    assert [f["kind"] for f in report["failures"]] == ["returned"]
    assert report["failures"][0]["message"] == "returned a tuple of 4 items, not a dict"
    assert report["failures"][0]["cases"] == [0, 1, 2, 3]
    assert all(p["kind"] == "no result" for p in report["parameters"].values())
    assert report["hint"] is None and not report["complete"]


def test_a_raise_is_reported_once_with_the_candidate_line():
    def raises(params, X, y, lam, activation):
        return {"W1": 1 / 0}

    report = check_gradients(raises, cases=3)
    (failure,) = report["failures"]
    assert failure["kind"] == "raised" and failure["cases"] == [0, 1, 2]
    assert failure["message"].startswith("raised ZeroDivisionError: division by zero (at tests/test_gradcheck.py:")
    assert report["cases"][0]["failure"]["kind"] == "raised"


@pytest.mark.parametrize("code", [0, "stop here", None])
def test_sys_exit_in_the_library_api_is_a_failure(code):
    import sys

    report = check_gradients(lambda *a: sys.exit(code), cases=2)
    assert not report["ok"] and report["failures"][0]["kind"] == "exited"
    assert f"called sys.exit({code!r})" in report["failures"][0]["message"]


def test_a_wrong_signature_points_at_the_candidate_and_shows_the_expected_one():
    def grad(params, X, y):
        return mg.grad(params, X, y)

    with pytest.raises(UsageError) as raised:
        check_gradients(grad, cases=2)
    assert "grad(params, X, y) at tests/test_gradcheck.py:" in str(raised.value)
    assert "cannot be called as (params, X, y, lam, activation)" in str(raised.value)


def test_prints_are_counted_not_mixed_into_anything(capsys):
    def chatty(*args):
        print("hello from the candidate")
        return mg.grad(*args)

    report = check_gradients(chatty, cases=3)
    assert report["ok"] and report["output"]["stdout"]["lines"] == 3
    assert report["output"]["stdout"]["first_line"] == "hello from the candidate"
    assert capsys.readouterr().out == ""


def test_extra_keys_and_in_place_changes_fail():
    report = check_gradients(lambda *a: {**mg.grad(*a), "w1": np.zeros(1)}, cases=3)
    assert not report["ok"] and report["extra_keys"] == ["w1"]
    assert all(p["ok"] for p in report["parameters"].values())

    def modifies_X(params, X, y, lam, activation):
        X *= 2
        return mg.grad(params, X / 2, y, lam, activation)

    report = check_gradients(modifies_X, cases=3)
    assert not report["ok"] and report["modified_inputs"] == ["X"]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_manual_grad_passes(dtype):
    report = assert_gradients_agree(mg.grad, cases=CASES, dtype=dtype, stages=mg.stages)
    assert report["ok"] and report["complete"] and report["witness"]["ok"] and report["witness"]["cases_checked"] > 0
    assert {s: v["ok"] for s, v in report["stages"].items()} == {"delta3": True, "delta2": True}
    assert report["not_covered"] == []


def test_the_first_references_are_asked_of_jax_before_the_candidate_is_waited_for(monkeypatch):
    """The candidate's worker is waited for at its first call, after the first chunk's references are compiled:
    a candidate that imports for longer than JAX does keeps the compiler busy meanwhile."""
    from gradcheck.problems import seed

    events = []
    grad_many, loaded = seed.jr.api.grad_many, seed._loaded
    monkeypatch.setattr(seed.jr.api, "grad_many", lambda problems: events.append("references") or grad_many(problems))
    monkeypatch.setattr(seed, "_loaded", lambda runner: events.append("candidate") or loaded(runner))
    assert check_gradients(mg.grad, cases=3, activations="tanh")["ok"]
    assert events == ["references", "candidate"]


def test_assert_gradients_agree_carries_the_report():
    with pytest.raises(AssertionError, match=r"(?s)W1 .*FAIL.*off by a constant factor 2"):
        assert_gradients_agree(WRONG["factor 2"][0], cases=6)


def test_a_wrong_stage_is_named():
    def stages(params, X, y, activation):
        s = mg.stages(params, X, y, activation)
        return {"delta3": s["delta3"] * X.shape[0], "delta2": s["delta2"]}

    report = check_gradients(mg.grad, cases=6, stages=stages)
    assert not report["ok"]
    assert "N times too large" in report["stages"]["delta3"]["diagnosis"]
    assert report["stages"]["delta2"]["ok"]


def test_nan_and_ragged_results_are_named_not_crashed_on():
    import json

    report = check_gradients(altered(W2=lambda g, *_: np.where(g > 0, np.nan, g)), cases=4)
    assert "not finite where the reference is: nan at entry" in report["parameters"]["W2"]["diagnosis"]
    report = check_gradients(altered(b1=lambda g, *_: np.array([[1.0, 2.0], [3.0]], dtype=object)), cases=2)
    assert "not a numeric array" in report["parameters"]["b1"]["diagnosis"]
    json.dumps(report, allow_nan=False)


# What the first cases cover.


@pytest.mark.parametrize("activations, lams", [
    (mg.ACTIVATIONS, None), (("relu",), None), (("tanh",), None), (("sigmoid", "relu"), [0.0, 0.5, 2.0]), (("tanh",), [0.3]),
])
def test_the_first_cases_cover_every_requirement(activations, lams):
    n = cases_to_cover(activations, lams)
    assert not_covered(draw_cases(n, 0, activations, lams), activations, lams) == []
    assert not_covered(draw_cases(n - 1, 0, activations, lams), activations, lams) != []


def test_default_sweep_covers_everything_in_three_cases():
    assert cases_to_cover(DEFAULT_ACTIVATIONS, None) == 3


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_large_logits_overflow_an_unshifted_softmax_but_not_the_reference(dtype):
    import jax_reference as jr

    case = next(c for c in draw_cases(3, 0, DEFAULT_ACTIVATIONS) if c.large_logits)
    params, X, y = case.build(dtype)
    z3 = mg.forward(params, X, case.activation)
    overflow = {np.float64: 709.8, np.float32: 88.8}[dtype]  # log of the largest finite float
    assert overflow < z3.max() <= LARGE_LOGIT[np.dtype(dtype)] * 1.001
    assert all(np.all(np.isfinite(g)) for g in jr.grad(params, X, y, case.lam, case.activation).values())


@pytest.mark.parametrize("candidate", [
    altered(W1=lambda g, p, X, y, lam, act: g - 2 * lam * p["W1"]),  # no penalty on W1: needs λ > 0
    relu_prime_at_zero_is_one,  # needs exact zeros in z2
    unshifted_softmax,  # needs large logits
], ids=["no penalty", "relu' (z2 >= 0)", "unshifted softmax"])
def test_three_cases_catch_what_needs_a_special_case(candidate):
    assert not check_gradients(candidate, cases=3)["ok"]


def test_too_few_cases_say_what_they_left_uncovered():
    from gradcheck import text

    report = check_gradients(mg.grad, cases=1)
    assert report["ok"]
    assert report["not_covered"] == [need for need in requirements(DEFAULT_ACTIVATIONS, None)
                                     if need not in ("activation sigmoid", "λ = 0", "labels all of one class")]
    assert "not covered by 1 case: activation tanh, activation relu, λ > 0" in text(report)


def test_bad_arguments_are_refused_by_name():
    for kwargs, pattern in [({"cases": 0}, "cases must be"), ({"dtype": np.float16}, "dtype must be"),
                            ({"activations": ["gelu"]}, "activations must be"), ({"lams": [-1.0]}, "lam must be"),
                            ({"seed": -1}, "seed must be an integer >= 0; got -1"), ({"timeout": 0}, "timeout must be")]:
        with pytest.raises(ValueError, match=pattern):
            check_gradients(mg.grad, **kwargs)


def test_one_activation_and_one_lam_may_be_given_bare():
    report = check_gradients(mg.grad, cases=4, activations="relu", lams=0.5)
    assert report["config"]["activations"] == ["relu"] and report["config"]["lams"] == [0.5]
    assert {c["activation"] for c in report["cases"]} == {"relu"} and {c["lam"] for c in report["cases"]} == {0.5}


def test_cases_are_reproducible_and_of_distinct_shapes():
    a, b = draw_cases(300, 7, mg.ACTIVATIONS), draw_cases(300, 7, mg.ACTIVATIONS)
    assert a == b and a != draw_cases(300, 8, mg.ACTIVATIONS)
    assert len({(c.N, c.D, c.H, c.K) for c in a}) == 300
    assert all(len({c.D, c.H, c.K}) == 3 for c in a)
    assert {c.activation for c in a} == set(mg.ACTIVATIONS)
    assert any(c.lam == 0 for c in a) and any(c.lam > 0 for c in a)
    assert any(c.kinks for c in a[3:]) and any(c.large_logits for c in a[3:])


# Networks of any depth (--depth).

ALL = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus")


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_manual_grad_passes_at_depth_four_with_every_activation(dtype):
    report = assert_gradients_agree(mg.grad, cases=CASES, dtype=dtype, depth=4, activations=ALL, stages=mg.stages)
    assert list(report["parameters"]) == ["W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4"]
    assert list(report["stages"]) == ["delta5", "delta4", "delta3", "delta2"]
    assert report["not_covered"] == [] and report["witness"]["cases_checked"] > 0
    assert any(len(set(c["activations"])) > 1 for c in report["cases"])  # mixed activations


def test_a_slip_deep_in_the_recursion_is_named_and_the_hint_walks_the_layers():
    report = check_gradients(load_example("deep_phi_for_phi_prime"), cases=CASES, depth=4)
    for name, p in report["parameters"].items():
        if name in ("W1", "b1", "W2", "b2"):
            assert "matches φ(z3) where φ'(z3) belongs in δ3 = (δ4 W3ᵀ) ⊙ φ'(z3)" in p["diagnosis"], name
        else:
            assert p["ok"], name
    assert report["hint"] == "W3, b3, W4, b4 agree, so δ4 is right: look at δ3 = (δ4 W3ᵀ) ⊙ φ'(z3)"


def test_a_layer_index_off_by_one_is_named():
    def shifted(params, X, y, lam, activation):
        g = mg.grad(params, X, y, lam, activation)
        return {**g, "W2": g["W3"], "W3": g["W2"]}

    report = check_gradients(shifted, cases=6, depth=3)
    assert "has W3's shape and values: W2 and W3 look swapped (a layer index off by one?)" in \
        report["parameters"]["W2"]["diagnosis"]


def test_phi_prime_at_the_wrong_layer_is_located_in_the_layers_it_mixes():
    report = check_gradients(load_example("deep_phi_prime_wrong_layer"), cases=6, depth=4)
    failure = report["failures"][0]
    assert failure["kind"] == "raised" and "could not be broadcast" in failure["message"]
    assert "in this case's terms (N, H4) of z4 met (N, K) of z5" in failure["message"]


def test_the_leaky_relu_convention_at_its_kink_is_named():
    backward = load(f"{EXAMPLES}/deep_learner.py:backward")[0]

    def leaky_prime_zero_at_zero(params, X, y, lam, activation):
        def step(l, delta, z, a, phi):
            if phi[l] == "leaky_relu":
                return (delta @ params[f"W{l}"].T) * np.where(z[l] > 0, 1, 0.01)  # jax.nn.leaky_relu: 1 at 0
            return (delta @ params[f"W{l}"].T) * mg.activations.TABLE[phi[l]][1](a[l])

        return backward(params, X, y, lam, activation, step)

    report = check_gradients(leaky_prime_zero_at_zero, cases=CASES, depth=3, activations=["tanh", "leaky_relu"])
    diagnosis = report["parameters"]["b1"]["diagnosis"]
    assert "wrong only where z has exact zeros (leaky_relu kinks): jax.nn.leaky_relu takes φ'(0) = 1" in diagnosis


def test_deep_cases_cover_every_activation_kink_and_depth():
    cases = draw_cases(40, 3, ALL, depth=5)
    assert all(c.L == 5 and len(set(c.widths)) == 6 for c in cases)
    assert not_covered(cases[:cases_to_cover(ALL, None)], ALL, None, 5) == []
    assert "leaky_relu with exact zeros in z" in requirements(ALL, None, 5)
