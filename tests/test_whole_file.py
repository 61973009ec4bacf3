"""A whole course file, `gradcheck layers.py`: every X_backward against jax.vjp of its X_forward and every
*_loss against jax.grad of its own loss, each with the file's own sampler or a course's usual inputs, in one
table whose verdict is a pass only where every function was judged and agrees. A whole file is always checked
in worker processes: what reads the file, and the usage errors, are fast; the rest is among the slow tests."""

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from gradcheck import UsageError, check_file
from gradcheck.cli import main
from gradcheck.problems.course import discover
from gradcheck.problems.layer import LayerProblem
from gradcheck.problems.sampled import Workers
from gradcheck.problems.shapes import Shapes
from gradcheck.report.whole_file import file_text

from .paths import COURSE, LAYERS

HALFWAY = str(COURSE / "layers_halfway.py")


@pytest.fixture(scope="module")
def halfway():
    """The half-done file's report: one right layer, two slips, a layer whose inputs cannot be guessed, a loss."""
    return check_file(HALFWAY, cases=3)


def _verdicts(report):
    return {row["function"]: row["verdict"] for row in report["functions"]}


def test_the_file_is_read_not_run_for_what_it_holds():
    functions = {f.name: f for f in discover(COURSE / "layers.py")}
    assert list(functions) == ["affine_backward", "relu_backward", "batchnorm_backward", "batchnorm_backward_alt",
                               "layernorm_backward", "dropout_backward", "conv_backward_naive",
                               "max_pool_backward_naive", "spatial_batchnorm_backward", "spatial_groupnorm_backward",
                               "svm_loss", "softmax_loss"]
    assert functions["batchnorm_backward_alt"].forward == "batchnorm_forward"  # no batchnorm_forward_alt
    assert functions["conv_backward_naive"].forward == "conv_forward_naive"
    assert functions["dropout_backward"].settings == {"dropout_param": {"mode": "train", "p": 0.5, "seed": 0}}
    assert functions["softmax_loss"].mode == "value_and_grad"
    assert functions["softmax_loss"].shapes == "x: N,C; y: int[N] < C"
    net = discover(COURSE / "neural_net.py")  # a model class's loss(X, y=None, reg=0.0) over self.params
    assert [(f.name, f.mode, f.shapes) for f in net] == [
        ("TwoLayerNet.loss", "value_and_grad", "X: N,D; y: int[N] < C; reg: 0.1")]


def test_a_files_own_sampler_wins_and_what_cannot_be_guessed_is_said(tmp_path):
    assert {f.name: f.sample for f in discover(LAYERS / "layers.py")} == {
        "affine_backward": "sample_affine", "relu_backward": "sample_relu", "batchnorm_backward": "sample_batchnorm"}
    source = tmp_path / "odd.py"
    source.write_text("def warp_forward(q, k):\n    return q\n\ndef warp_backward(dout, cache):\n    return dout\n\n"
                      "def lonely_backward(dout, cache):\n    return dout\n\ndef helper(x):\n    return x\n")
    functions = {f.name: f for f in discover(source)}
    assert list(functions) == ["warp_backward", "lonely_backward"]
    assert "write sample_warp(rng)" in functions["warp_backward"].missing
    assert "no lonely_forward" in functions["lonely_backward"].missing


def test_an_unreadable_file_is_a_usage_error(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("def relu_forward(x:\n")
    with pytest.raises(UsageError, match="SyntaxError"):
        check_file(broken)
    empty = tmp_path / "empty.py"
    empty.write_text("import numpy as np\n")
    with pytest.raises(UsageError, match="no X_forward/X_backward pair"):
        check_file(empty)


@pytest.mark.slow  # workers
def test_every_function_gets_its_own_verdict_and_the_worst_is_the_files(halfway):
    assert _verdicts(halfway) == {"affine_backward": "pass", "relu_backward": "fail", "dropout_backward": "fail",
                                  "attention_backward": "no verdict", "softmax_loss": "pass"}
    assert halfway["verdict"] == "fail" and not halfway["ok"]
    rows = {row["function"]: row for row in halfway["functions"]}
    assert "off by a constant factor 1/2" in rows["dropout_backward"]["summary"]  # the 1/p of the kept units
    assert rows["attention_backward"]["report"] is None
    words = file_text(halfway)
    assert "── relu_backward" in words and "── affine_backward" not in words
    assert words.splitlines()[-1] == "FAIL: 2 wrong, 1 not judged, 2 agree, of 5 functions"


@pytest.mark.slow  # workers
def test_no_verdict_is_never_a_pass(tmp_path):
    source, out = tmp_path / "unknown.py", tmp_path / "report.json"
    source.write_text((COURSE / "layers_halfway.py").read_text().split("def relu_forward")[0]
                      + "def warp_forward(q, k):\n    return q * k, (q, k)\n\n"
                      "def warp_backward(dout, cache):\n    q, k = cache\n    return dout * k, dout * q\n")
    assert main([str(source), "--cases", "2", "--quiet", "--json", str(out)]) == 3
    report = json.loads(out.read_text())
    assert _verdicts(report) == {"affine_backward": "pass", "warp_backward": "no verdict"}
    assert report["verdict"] == "no verdict" and not report["ok"]


@pytest.mark.slow  # workers
def test_a_crash_in_one_function_leaves_the_others_judged(user_module):
    # dropout's settings dict travels to the workers as data: the candidate still runs in its own process (an
    # exit there would end this one).
    source = user_module('''
        import os
        import numpy as np

        def dropout_forward(x, dropout_param):
            return x, None

        def dropout_backward(dout, cache):
            os._exit(3)

        def tanh_forward(x):
            out = np.tanh(x)
            return out, out

        def tanh_backward(dout, cache):
            return dout * (1 - cache ** 2)
        ''', "crashing").path
    report = check_file(source, cases=2)
    assert _verdicts(report) == {"dropout_backward": "fail", "tanh_backward": "pass"}
    assert report["functions"][0]["report"]["failures"][0]["kind"] == "crashed"


@pytest.mark.slow  # workers
def test_a_file_that_cannot_be_imported_is_a_usage_error(tmp_path, capsys):
    source = tmp_path / "exits.py"
    source.write_text("import sys\nsys.exit(0)\n\ndef relu_forward(x):\n    return x, x\n\n"
                      "def relu_backward(dout, cache):\n    return dout\n")
    assert main([str(source)]) == 2
    assert "cannot load" in capsys.readouterr().err


@pytest.mark.slow  # workers
def test_the_workers_are_kept_from_one_function_to_the_next():
    workers = Workers()
    first = LayerProblem({"candidate": f"{HALFWAY}:affine_backward", "forward": f"{HALFWAY}:affine_forward",
                          "shapes": "x: N,D; w: D,M; b: M"}, timeout=20, workers=workers)
    second = LayerProblem({"candidate": f"{HALFWAY}:relu_backward", "forward": f"{HALFWAY}:relu_forward",
                           "shapes": "x: N,D"}, timeout=20, workers=workers)
    try:
        first.open()
        pids = (first.reference._process.pid, first.candidate._process.pid)
        first.close()
        second.open()
        assert (second.reference._process.pid, second.candidate._process.pid) == pids
        assert second.names == ["x"]  # the second function's own roles
    finally:
        workers.close()


@pytest.mark.slow  # workers
def test_the_command_writes_json_and_junit_with_a_suite_per_function(tmp_path, capsys):
    out_json, out_xml = tmp_path / "r.json", tmp_path / "r.xml"
    assert main([HALFWAY, "--cases", "2", "--json", str(out_json), "--junit", str(out_xml)]) == 1
    report = json.loads(out_json.read_text())
    assert report["mode"] == "file" and report["verdict"] == "fail"
    suites = ET.parse(out_xml).getroot()
    assert [s.get("name") for s in suites] == [row["function"] for row in report["functions"]]
    attention = next(s for s in suites if s.get("name") == "attention_backward")
    assert attention.get("failures") == "1"  # no verdict fails in CI, as it does in the exit status
    assert "FAIL: 2 wrong" in capsys.readouterr().out


@pytest.mark.parametrize("option", [["--forward", "x.py:f"], ["--html", "page.html"], ["--shapes", "x: N"]])
def test_options_of_one_function_are_refused_for_a_whole_file(option, capsys):
    assert main([HALFWAY, *option]) == 2
    assert "name one function" in capsys.readouterr().err


def test_settings_and_masks_are_drawn_as_the_spec_and_the_caller_say():
    shapes = Shapes("x: N,T; mask: bool[N,T]", constants={"bn_param": {"mode": "train"}})
    first, second = shapes(np.random.default_rng(0)), shapes(np.random.default_rng(0))
    assert first["mask"].dtype == bool and first["mask"].shape == first["x"].shape
    assert first["bn_param"] == {"mode": "train"} and first["bn_param"] is not second["bn_param"]


@pytest.mark.slow
def test_a_right_course_file_passes_naive_loops_and_all():
    report = check_file(str(COURSE / "layers.py"), cases=2)
    assert report["ok"], file_text(report)


@pytest.mark.slow
def test_an_rnn_file_sequences_embeddings_and_a_masked_loss_and_the_one_slip():
    report = check_file(str(COURSE / "rnn_layers.py"), cases=2)
    verdicts = _verdicts(report)
    assert verdicts.pop("lstm_step_backward_one_path") == "fail"
    assert verdicts == dict.fromkeys(["lstm_step_backward", "rnn_step_backward", "rnn_backward",
                                      "word_embedding_backward", "temporal_affine_backward", "temporal_softmax_loss",
                                      "lstm_backward"], "pass"), file_text(report)


@pytest.mark.slow  # workers
def test_a_notebook_shows_the_table(halfway):
    page = halfway._repr_html_()
    assert page.startswith("<pre>") and "relu_backward" in page
    assert "y: int[N] &lt; C" in page  # the table's own words, escaped


@pytest.mark.slow  # workers
def test_functions_not_written_yet_are_said_so(user_module):
    """A course's stubs return None: a backward's None is wrong, a forward's None leaves nothing to judge."""
    source = user_module('''
        def affine_forward(x, w, b):
            return x @ w + b, (x, w, b)

        def affine_backward(dout, cache):
            dx, dw, db = None, None, None
            return dx, dw, db

        def relu_forward(x):
            out = None
            return out, x

        def relu_backward(dout, cache):
            return dout * (cache > 0)
        ''', "stubs").path
    rows = {row["function"]: row for row in check_file(source, cases=2)["functions"]}
    assert rows["affine_backward"]["verdict"] == "fail" and "is it written yet?" in rows["affine_backward"]["summary"]
    assert rows["relu_backward"]["verdict"] == "no verdict"
    assert "returned None for its output" in rows["relu_backward"]["summary"]
