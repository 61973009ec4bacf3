"""--integrable: whether a hand-derived gradient is the gradient of any loss, from the symmetry of its own
Jacobian, with no loss given. A right gradient is never failed (in float64 and float32, at kinks too); a field
that is no gradient fails; and nothing here is ever a pass."""

import json
import xml.etree.ElementTree as ET

import pytest

from gradcheck import check_integrable
from gradcheck.cli import main
from gradcheck.isolation.loader import load
from gradcheck.report.integrable import text

from .paths import MODELS

MLP = f"{MODELS / 'mlp_mse.py'}:sample"


def model_function(model, name):
    """An example model's function, called in this process (the command line's workers are tested below)."""
    return load(f"{MODELS / model}.py:{name}")[0]


@pytest.mark.parametrize("dtype", [None, "float32"])
@pytest.mark.parametrize("model", ["mlp_mse", "softmax_regression", "svm", "logistic_regression"])
def test_a_right_gradient_is_never_failed_and_never_passed(model, dtype):
    """Right gradients, smooth (the MLP, softmax regression with its penalty) and with kinks (the SVM's hinge,
    whose differences across a kink grow as 1/h and so are not the same at both steps): no verdict."""
    report = check_integrable(model_function(model, "grad"), sample=model_function(model, "sample"), cases=12,
                              dtype=dtype)
    assert report["verdict"] == "no verdict", text(report)
    assert not report["ok"] and not report["failures"]


def test_a_scaled_gradient_is_still_the_gradient_of_something():
    """(out − Y) for 2 (out − Y): the gradient of half the loss, symmetric; only the loss mode can catch it."""
    report = check_integrable(model_function("mlp_mse_half", "grad"), sample=load(MLP)[0], cases=4)
    assert report["verdict"] == "no verdict"


def test_a_field_that_is_no_gradient_fails_and_the_clean_parameters_are_said():
    report = check_integrable(model_function("mlp_mse_tanh_prime", "grad"), sample=load(MLP)[0], cases=4)
    assert report["verdict"] == "fail"
    # 1 − a for 1 − a² in the second layer: every pair reaching W1, b1, W2 or b2 through d2 is asymmetric, by
    # about 1e-2 of ‖J u‖ + ‖J v‖ (measured), four orders above the float64 tolerance.
    assert report["suspects"] == ["W1", "b1", "W2", "b2"]
    assert {"W3/W3", "W3/b3", "b3/b3"}.isdisjoint(report["asymmetric"])
    assert "W2/W3" in report["asymmetric"]


def test_a_candidate_that_fails_to_answer_fails(user_module):
    f = user_module('''
        import numpy as np

        def grad(params, X, Y):
            if abs(params["W1"][0, 0]) > 0.0:  # any point but the sampled one: the differences' points
                return {"W1": params["W1"]}
            return {k: np.zeros_like(v) for k, v in params.items()}
        ''')
    report = check_integrable(f("grad"), sample=load(MLP)[0], cases=2)
    assert report["verdict"] == "fail"
    assert "returned keys" in report["failures"][0]["message"]


@pytest.mark.slow  # workers
def test_the_command_exits_1_or_3_never_0_and_writes_json_and_junit(tmp_path, capsys):
    out_json, out_xml = tmp_path / "r.json", tmp_path / "r.xml"
    right = [f"{MODELS / 'mlp_mse.py'}:grad", "--sample", MLP, "--integrable", "--cases", "2"]
    assert main([*right, "--json", str(out_json), "--junit", str(out_xml)]) == 3
    assert json.loads(out_json.read_text())["verdict"] == "no verdict"
    verdict = [c for c in ET.parse(out_xml).getroot() if c.get("name") == "verdict"]
    assert verdict and verdict[0].find("failure") is not None  # no verdict is not a green test either
    assert "NO VERDICT" in capsys.readouterr().out
    wrong = [f"{MODELS / 'mlp_mse_tanh_prime.py'}:grad", "--sample", MLP, "--integrable", "--cases", "2"]
    assert main([*wrong, "--quiet"]) == 1


@pytest.mark.parametrize("argv, words", [
    (["--integrable"], "needs the candidate"),
    (["g.py:grad", "--integrable"], "needs the candidate, path/to/file.py:grad, and --sample"),
    (["g.py:grad", "--sample", "s.py:sample", "--integrable", "--loss", "l.py:loss"], "with no loss"),
    (["g.py:grad", "--sample", "s.py:sample", "--integrable", "--html", "p.html"], "--html"),
])
def test_integrable_usage_errors(argv, words, capsys):
    assert main(argv) == 2
    assert words in capsys.readouterr().err

