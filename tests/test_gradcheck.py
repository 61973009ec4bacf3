"""gradcheck names the wrong parameter and the kind of mistake, for deliberately wrong candidates."""

import json
import subprocess
import sys
import sysconfig
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import manual_grad as mg
from jax_reference.gradcheck import assert_gradients_agree, check_gradients
from jax_reference.gradcheck.cli import main
from jax_reference.gradcheck.sweep import draw_cases

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CASES = 30  # ten per activation: λ = 0 and λ > 0, every label set, relu kinks


def altered(**changes):
    """mg.grad with some parameters' gradients replaced by change(g, params, X, y, lam, activation)."""

    def candidate(params, X, y, lam, activation):
        g = mg.grad(params, X, y, lam, activation)
        return {**g, **{k: f(g[k], params, X, y, lam, activation) for k, f in changes.items()}}

    return candidate


def relu_prime_at_zero_is_one(params, X, y, lam, activation):
    if activation != "relu":
        return mg.grad(params, X, y, lam, activation)
    N = X.shape[0]
    z2 = X @ params["W1"] + params["b1"]
    a2 = np.maximum(z2, 0)
    z3 = a2 @ params["W2"] + params["b2"]
    a3 = np.exp(z3 - z3.max(axis=1, keepdims=True))
    a3 /= a3.sum(axis=1, keepdims=True)
    delta3 = (a3 - np.eye(a3.shape[1])[y]) / N
    delta2 = (delta3 @ params["W2"].T) * (z2 >= 0)  # jax.nn.relu takes φ'(0) = 0
    return {"W1": X.T @ delta2 + 2 * lam * params["W1"], "b1": delta2.sum(axis=0),
            "W2": a2.T @ delta3 + 2 * lam * params["W2"], "b2": delta3.sum(axis=0)}


def phi_prime_left_out(params, X, y, lam, activation):
    g = mg.grad(params, X, y, lam, activation)
    delta2 = mg.stages(params, X, y, activation)["delta3"] @ params["W2"].T
    return {**g, "W1": X.T @ delta2 + 2 * lam * params["W1"], "b1": delta2.sum(axis=0)}


def raises(params, X, y, lam, activation):
    return {"W1": 1 / 0}


def modifies_X(params, X, y, lam, activation):
    X *= 2
    return mg.grad(params, X / 2, y, lam, activation)


# (candidate, {parameter: words its diagnosis must contain}); the others must agree.
WRONG = {
    "factor N": (altered(W2=lambda g, p, X, *_: X.shape[0] * g), {"W2": "N times too large"}),
    "factor 1/N": (altered(b2=lambda g, p, X, *_: g / X.shape[0]), {"b2": "N times too small"}),
    "factor 2": (altered(W1=lambda g, *_: 2 * g), {"W1": "off by a constant factor 2"}),
    "factor 1/2": (altered(b1=lambda g, *_: g / 2), {"b1": "off by a constant factor 1/2"}),
    "sign": (altered(b2=lambda g, *_: -g), {"b2": "sign flipped"}),
    "transposed": (altered(W1=lambda g, *_: g.T), {"W1": "transposed: returned shape"}),
    "no batch sum": (altered(b2=lambda g, p, X, y, lam, act: mg.stages(p, X, y, act)["delta3"]),
                     {"b2": "the sum over the N = "}),
    "keepdims": (altered(b1=lambda g, *_: g[None, :]), {"b1": "not 1-D"}),
    "float32": (altered(W2=lambda g, *_: g.astype(np.float32)), {"W2": "the dtype is float32 for float64 inputs"}),
    "missing": (lambda *a: {k: v for k, v in mg.grad(*a).items() if k != "b1"}, {"b1": "missing from the candidate's result"}),
    "lam W": (altered(W2=lambda g, p, X, y, lam, act: g - lam * p["W2"]), {"W2": "penalty gradient is λW2, expected 2λW2"}),
    "no penalty": (altered(W1=lambda g, p, X, y, lam, act: g - 2 * lam * p["W1"]), {"W1": "the penalty gradient 2λW1 is missing"}),
    "bias penalty": (altered(b1=lambda g, p, X, y, lam, act: g + 2 * lam * p["b1"]), {"b1": "regularises the bias (adds 2λb1)"}),
    "only lam > 0": (altered(W2=lambda g, p, X, y, lam, act: g + lam**2 * p["W2"]), {"W2": "wrong only when λ > 0"}),
    "only lam = 0": (altered(b2=lambda g, p, X, y, lam, act: g + (lam == 0) * np.sin(np.arange(g.size))),
                     {"b2": "wrong only when λ = 0"}),
    "relu kink": (relu_prime_at_zero_is_one, {"W1": "relu kinks", "b1": "relu kinks"}),
    "phi for phi'": (altered(b1=lambda g, p, X, y, lam, act: (
        (mg.stages(p, X, y, act)["delta3"] @ p["W2"].T) * mg.activations.TABLE[act][0](X @ p["W1"] + p["b1"])).sum(0)),
        {"b1": "φ(z2) where φ'(z2) belongs"}),
    "phi' left out": (phi_prime_left_out, {"W1": "φ'(z2) left out", "b1": "φ'(z2) left out"}),
    "raised": (raises, dict.fromkeys(mg.PARAM_NAMES, "the candidate raised ZeroDivisionError: division by zero")),
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


def test_raised_names_the_case():
    report = check_gradients(raises, cases=3)
    assert "in case 0 (N=" in report["parameters"]["W1"]["diagnosis"]
    assert report["cases"][0]["error"].startswith("ZeroDivisionError")


def test_extra_keys_and_in_place_changes_fail():
    report = check_gradients(lambda *a: {**mg.grad(*a), "w1": 0}, cases=3)
    assert not report["ok"] and report["extra_keys"] == ["w1"]
    assert all(p["ok"] for p in report["parameters"].values())
    report = check_gradients(modifies_X, cases=3)
    assert not report["ok"] and report["modified_inputs"] == ["X"]


def test_a_non_dict_result_is_a_failure_not_a_crash():
    report = check_gradients(lambda *a: [1, 2], cases=2)
    assert "returned list, expected a dict" in report["parameters"]["W1"]["diagnosis"]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_manual_grad_passes(dtype):
    report = assert_gradients_agree(mg.grad, cases=CASES, dtype=dtype, stages=mg.stages)
    assert report["ok"] and report["witness"]["ok"] and report["witness"]["cases_checked"] > 0
    assert {s: v["ok"] for s, v in report["stages"].items()} == {"delta3": True, "delta2": True}


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


def test_cases_are_reproducible_and_of_distinct_shapes():
    a, b = draw_cases(300, 7), draw_cases(300, 7)
    assert a == b and a != draw_cases(300, 8)
    assert len({(c.N, c.D, c.H, c.K) for c in a}) == 300
    assert all(len({c.D, c.H, c.K}) == 3 for c in a)
    assert {c.activation for c in a} == set(mg.ACTIVATIONS)
    assert any(c.lam == 0 for c in a) and any(c.lam > 0 for c in a)
    assert any(c.kinks for c in a)


def test_check_gradients_refuses_bad_arguments():
    for kwargs, pattern in [({"cases": 0}, "cases must be"), ({"dtype": np.float16}, "dtype must be"),
                            ({"activations": ["gelu"]}, "activations must be"), ({"lams": [-1.0]}, "lam must be")]:
        with pytest.raises(ValueError, match=pattern):
            check_gradients(mg.grad, **kwargs)


def load_example(name):
    from jax_reference.gradcheck.loader import load

    return load(f"{EXAMPLES / name}.py:grad")[0]


# The command line: reports written and parsed back, exit statuses.


def test_cli_json_and_junit_for_a_wrong_candidate(tmp_path, capsys):
    json_path, junit_path = tmp_path / "report.json", tmp_path / "report.xml"
    status = main([f"{EXAMPLES}/seed_transcription.py:grad", "--cases", str(CASES),
                   "--json", str(json_path), "--junit", str(junit_path)])
    assert status == 1
    out = capsys.readouterr().out
    assert "b1  FAIL" in out and "FAIL: the candidate is wrong" in out

    report = json.loads(json_path.read_text())
    assert report["ok"] is False
    assert {k: v["ok"] for k, v in report["parameters"].items()} == {"W1": True, "b1": False, "W2": True, "b2": True}
    assert "φ(z2) where φ'(z2) belongs" in report["parameters"]["b1"]["diagnosis"]
    assert len(report["cases"]) == CASES and {"N", "D", "H", "K", "lam", "activation", "ok"} <= set(report["cases"][0])

    suite = ET.parse(junit_path).getroot()
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert set(cases) == {"parameters.W1", "parameters.b1", "parameters.W2", "parameters.b2", "witness.finite_differences"}
    assert cases["parameters.b1"].find("failure") is not None
    assert all(cases[n].find("failure") is None for n in cases if n != "parameters.b1")
    assert suite.get("failures") == "1"


def test_cli_passes_manual_grad_with_stages(tmp_path, capsys):
    assert main(["--cases", "12", "--stages", "--json", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["ok"] and set(report["stages"]) == {"delta3", "delta2"}
    assert "OK: the candidate agrees with autodiff" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--cases", "0"], ["--cases", "x"], ["--dtype", "float16"],
                                  ["--activation", "gelu"], ["--lam", "-1"], ["--lam", "nan"], ["--bogus"]])
def test_cli_bad_arguments_exit_2_with_usage(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "usage: gradcheck" in capsys.readouterr().err


@pytest.mark.parametrize("spec, words", [
    ("no/such/file.py:grad", "no such file"),
    ("no_such_module_xyz:grad", "cannot import module 'no_such_module_xyz'"),
    ("manual_grad:no_such_function", "has no attribute 'no_such_function'"),
    ("manual_grad:PARAM_NAMES", "is a tuple, not a function"),
    ("manual_grad", "expected path/to/file.py:function or package.module:function"),
])
def test_cli_unloadable_candidate_exits_2(spec, words, capsys):
    assert main([spec]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_cli_candidate_file_that_fails_to_import_exits_2(tmp_path, capsys):
    (tmp_path / "broken.py").write_text("def grad(:\n")
    assert main([f"{tmp_path}/broken.py:grad"]) == 2
    assert "importing" in capsys.readouterr().err


def test_cli_stages_without_a_stages_function_exits_2(capsys):
    assert main([f"{EXAMPLES}/sum_not_mean.py:grad", "--stages"]) == 2
    assert "has no stages(params, X, y, activation) function" in capsys.readouterr().err


def test_console_script_exit_statuses():
    """The installed command, as CI runs it: the script pip put beside this interpreter.
    (One activation, so that each process compiles once.)"""
    gradcheck = str(Path(sysconfig.get_path("scripts")) / "gradcheck")
    ok = subprocess.run([gradcheck, "--cases", "4", "--activation", "tanh", "--quiet"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout == ""
    wrong = subprocess.run([gradcheck, f"{EXAMPLES}/sum_not_mean.py:grad", "--cases", "4", "--activation", "tanh"],
                           capture_output=True, text=True)
    assert wrong.returncode == 1 and "N times too large" in wrong.stdout
    usage = subprocess.run([gradcheck, "--cases", "0"], capture_output=True, text=True)
    assert usage.returncode == 2 and "usage:" in usage.stderr


def test_plot_draws_the_worst_case(tmp_path):
    import matplotlib.image

    path = tmp_path / "seed.png"
    assert main([f"{EXAMPLES}/seed_transcription.py:grad", "--cases", "12", "--plot", str(path), "--quiet"]) == 1
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 400 and image.shape[1] > 800
    assert image[..., :3].std() > 0.05  # not blank


def test_plot_without_matplotlib_is_a_usage_error(monkeypatch, capsys):
    from jax_reference.gradcheck import cli

    real = cli.importlib.util.find_spec
    monkeypatch.setattr(cli.importlib.util, "find_spec", lambda name: None if name == "matplotlib" else real(name))
    assert main(["--cases", "2", "--plot", "x.png"]) == 2
    assert "--plot needs matplotlib" in capsys.readouterr().err


def test_nan_and_ragged_results_are_named_not_crashed_on():
    report = check_gradients(altered(W2=lambda g, *_: np.where(g > 0, np.nan, g)), cases=4)
    assert "not finite: nan at entry" in report["parameters"]["W2"]["diagnosis"]
    report = check_gradients(altered(b1=lambda g, *_: [[1.0, 2.0], [3.0]]), cases=2)
    assert "not a numeric array" in report["parameters"]["b1"]["diagnosis"]
    json.dumps(report, allow_nan=False)
