"""The (loss, grad) mode: a function returning its loss and gradient together, as course assignments write
them, checked against jax.grad of its own loss; its arguments drawn from --shapes or a sample; which of them
are differentiated read from what it returns, or named by --wrt."""

import numpy as np
import pytest

from gradcheck import UsageError, check_gradients, check_vjp, text
from gradcheck.cli import main
from gradcheck.isolation.loader import load
from gradcheck.problems.shapes import Shapes, parse

from .paths import COURSE

SOFTMAX = "W: D,C; X: N,D; y: int[N] < C; reg: 0.1"
CASES = 3  # three drawn shapes: letters distinct in each, so a transpose cannot pass


def course(name, function):
    return load(f"{COURSE / name}.py:{function}")[0]


# The naive loops are traced entry by entry: 2 s here, so among the slow tests.
@pytest.mark.parametrize("function", [pytest.param("softmax_loss_naive", marks=pytest.mark.slow),
                                      "softmax_loss_vectorized"])
def test_a_right_softmax_passes_loops_and_all(function):
    report = check_gradients(course("softmax", function), shapes=SOFTMAX, cases=CASES)
    assert report["ok"], text(report)
    assert list(report["parameters"]) == ["W"]  # one array returned: the first argument's gradient
    assert report["witness"]["taylor"]["W"]["candidate"]["slope"] > 1.8


def test_the_penalty_slip_is_named_and_seen_by_the_taylor_test():
    report = check_gradients(course("softmax_reg_slip", "softmax_loss_vectorized"), shapes=SOFTMAX, cases=CASES)
    W = report["parameters"]["W"]
    assert not report["ok"] and not W["ok"]
    assert "a multiple of W itself" in W["diagnosis"] and "2λθ" in W["diagnosis"]
    assert report["witness"]["taylor"]["W"]["candidate"]["slope"] < 1.2


def test_a_gradient_of_the_first_argument_with_integer_labels_passes():
    report = check_gradients(course("svm", "svm_loss"), shapes="x: N,C; y: int[N] < C", cases=CASES)
    assert report["ok"], text(report)
    assert list(report["parameters"]) == ["x"]


AFFINE = '''
import numpy as np
def as_dict(W, b, X):
    out = X @ W + b
    return np.sum(out ** 2), {"W": 2 * X.T @ out, "b": 2 * out.sum(axis=0)}
def as_tuple(W, b, X):
    out = X @ W + b
    return np.sum(out ** 2), (2 * X.T @ out, 2 * out.sum(axis=0))
def wrong_b(W, b, X):
    out = X @ W + b
    return np.sum(out ** 2), {"W": 2 * X.T @ out, "b": out.sum(axis=0)}
def of_X(W, X):
    return np.sum((X @ W) ** 2), 2 * (X @ W) @ W.T
def only_loss(W, X):
    return np.sum((X @ W) ** 2)
'''


@pytest.mark.parametrize("function", ["as_dict", "as_tuple"])
def test_a_dict_or_tuple_of_gradients_names_the_arguments_differentiated(function, user_module):
    f = user_module(AFFINE)(function)
    report = check_gradients(f, shapes="W: D,M; b: M; X: N,D", cases=CASES)
    assert report["ok"], text(report)
    assert list(report["parameters"]) == ["W", "b"]  # X is data: not differentiated


def test_a_wrong_gradient_among_several_is_the_one_named(user_module):
    report = check_gradients(user_module(AFFINE)("wrong_b"), shapes="W: D,M; b: M; X: N,D", cases=CASES)
    assert report["parameters"]["W"]["ok"] and not report["parameters"]["b"]["ok"]


def test_wrt_names_the_argument_a_single_gradient_is_for(user_module):
    f = user_module(AFFINE)("of_X")
    assert check_gradients(f, shapes="W: D,M; X: N,D", wrt="X", cases=CASES)["ok"]
    # Read as the first argument's, the same gradient has X's shape, not W's: a failure, never a pass.
    report = check_gradients(f, shapes="W: D,M; X: N,D", cases=CASES)
    assert not report["ok"] and report["parameters"]["W"]["kind"] == "shape"


def test_a_sample_of_arguments_by_name_serves_as_well_as_shapes(user_module):
    def sample(rng):
        D, M = (int(n) for n in rng.choice(np.arange(2, 9), 2, replace=False))
        return {"W": rng.standard_normal((D, M)), "b": rng.standard_normal(M), "X": rng.standard_normal((4, D))}

    assert check_gradients(user_module(AFFINE)("as_dict"), sample=sample, cases=CASES)["ok"]


@pytest.mark.parametrize("function, shapes, words", [
    ("only_loss", "W: D; X: N,D", "only_loss returned a float64, run with NumPy: a function checked with --shapes"),
    ("of_X", "W: D,M", "--shapes must give X: the function has no default for it"),
    ("of_X", "W: D,M; X: N,D; Z: 3", "--shapes names 'Z', which is not an argument (W, X)"),
])
def test_what_cannot_be_checked_is_a_usage_error_that_says_why(function, shapes, words, user_module):
    with pytest.raises(UsageError, match=".*".join(map(__import__("re").escape, words.split("*")))):
        check_gradients(user_module(AFFINE)(function), shapes=shapes, cases=2)


def test_wrt_must_name_an_argument(user_module):
    with pytest.raises(UsageError, match=r"--wrt Q: not an argument of of_X\(W, X\)"):
        check_gradients(user_module(AFFINE)("of_X"), shapes="W: D,M; X: N,D", wrt="Q", cases=2)


@pytest.mark.parametrize("spec, words", [
    ("W D,C", "is not NAME: SHAPE"),
    ("W: D,C; W: C", "'W' is given twice"),
    ("y: int[N] < C,D", "the bound after < is one letter or number"),
    ("W: D,C-1", "a dimension is a letter, a number or a multiple such as 4H, got 'C-1'"),
    ("", "no entries"),
])
def test_a_shapes_spec_that_cannot_be_read_names_the_entry(spec, words):
    with pytest.raises(UsageError, match=__import__("re").escape(words)):
        parse(spec)


def test_letters_are_drawn_distinct_in_each_case_and_labels_below_their_bound():
    shapes = Shapes("W: D,C; X: N,D; y: int[N] < C; s: (); reg: 0.5; k: 3; b: (4,)")
    for seed in range(50):
        drawn = shapes(np.random.default_rng(seed))
        (D, C), (N, _) = drawn["W"].shape, drawn["X"].shape
        assert len({D, C, N}) == 3 and drawn["X"].shape[1] == D and drawn["b"].shape == (4,)
        assert drawn["y"].shape == (N,) and drawn["y"].dtype.kind == "i" and 0 <= drawn["y"].min() <= drawn["y"].max() < C
        assert drawn["s"].shape == () and drawn["reg"] == 0.5 and isinstance(drawn["k"], int)


def test_the_command_line_refuses_a_bad_spec_or_option_mix_before_any_case(capsys):
    for argv, words in [
        (["f.py:g", "--shapes", "W D"], "--shapes: 'W D' is not NAME: SHAPE"),
        (["f.py:g", "--shapes", "W: D", "--sample", "f.py:s"], "--shapes and --sample both draw the arguments"),
        (["f.py:g", "--loss", "f.py:l", "--sample", "f.py:s", "--shapes", "W: D"], "it does not go with --loss"),
        (["f.py:g", "--wrt", "W"], "--wrt belongs with --shapes"),
    ]:
        assert main(argv) == 2
        assert words in capsys.readouterr().err, argv


@pytest.mark.slow
def test_the_command_line_checks_a_course_file_in_workers(tmp_path, capsys):
    right = [f"{COURSE}/softmax.py:softmax_loss_vectorized", "--shapes", SOFTMAX, "--cases", "4"]
    assert main(right) == 0
    assert main([f"{COURSE}/softmax_reg_slip.py:softmax_loss_vectorized", *right[1:]]) == 1
    out = capsys.readouterr().out
    assert "W  FAIL" in out and "FAIL: the candidate is wrong" in out


# ---- a model class's method over self.params ----

NET = "X: N,D; y: int[N] < C; reg: 0.1"


def test_a_model_class_method_is_checked_in_its_params_and_its_guess_is_said():
    report = check_gradients(course("neural_net", "TwoLayerNet.loss"), shapes=NET, cases=CASES)
    assert report["ok"], text(report)
    assert list(report["parameters"]) == ["W1", "b1", "W2", "b2"]
    assert report["warnings"][0] == ("TwoLayerNet(input_size=D, hidden_size=H, output_size=C): the constructor's "
                                     "arguments guessed from their names and --shapes; --init gives them")
    sizes = [dict(c["shapes"]) for c in report["cases"]]
    assert all(s["W1"] == [s["X"][1], s["b1"][0]] and s["W2"][1] == s["b2"][0] for s in sizes)


def test_a_relu_mask_slip_in_a_method_is_found_in_the_layer_it_touches():
    report = check_gradients(course("neural_net_relu_mask", "TwoLayerNet.loss"), shapes=NET,
                             init="input_size: D; hidden_size: H; output_size: C", cases=CASES)
    assert {k: p["ok"] for k, p in report["parameters"].items()} == {"W1": False, "b1": False, "W2": True, "b2": True}
    assert report["warnings"] == [] or "guessed" not in report["warnings"][0]  # --init given: nothing guessed


def test_a_constructor_argument_that_cannot_be_guessed_asks_for_init(user_module):
    f = user_module('''
        import numpy as np
        class Net:
            def __init__(self, width, depth_of_field):
                self.params = {"W": np.zeros((width, 2))}
            def loss(self, X):
                return np.sum(X @ self.params["W"]), {"W": X.sum(axis=0)[:, None] * np.ones((1, 2))}
        ''')
    with pytest.raises(UsageError, match="cannot guess Net's argument 'width' from its name: give it with --init"):
        check_gradients(f("Net.loss"), shapes="X: N,D", cases=2)
    assert check_gradients(f("Net.loss"), shapes="X: N,D", init="width: D; depth_of_field: 3", cases=3)["ok"]


# ---- layers: several outputs, and inputs from --shapes ----

def test_a_layer_with_two_outputs_gets_a_dout_for_each_and_its_slip_is_caught():
    forward = course("rnn_layers", "lstm_step_forward")
    spec = "x: N,D; prev_h: N,H; prev_c: N,H; Wx: D,4H; Wh: H,4H; b: 4H"
    right = check_vjp(course("rnn_layers", "lstm_step_backward"), forward=forward, shapes=spec, cases=CASES)
    assert right["ok"], text(right)
    assert list(right["parameters"]) == ["x", "prev_h", "prev_c", "Wx", "Wh", "b"]
    assert all(dict(c["shapes"])["Wx"][1] == 4 * dict(c["shapes"])["prev_h"][1] for c in right["cases"])
    # dnext_h's path into the cell state forgotten: every gradient wrong, and the Taylor test sees it.
    wrong = check_vjp(course("rnn_layers", "lstm_step_backward_one_path"), forward=forward,
                      sample=course("rnn_layers", "sample_lstm_step"), cases=CASES)
    assert not any(p["ok"] for p in wrong["parameters"].values())
    assert all(t["candidate"]["slope"] < 1.2 for t in wrong["witness"]["taylor"].values())


def test_a_layers_inputs_from_shapes_must_all_be_given():
    forward = course("rnn_layers", "lstm_step_forward")
    with pytest.raises(UsageError, match="--shapes must give prev_c"):
        check_vjp(course("rnn_layers", "lstm_step_backward"), forward=forward,
                  shapes="x: N,D; prev_h: N,H; Wx: D,4H; Wh: H,4H; b: 4H", cases=2)


def test_a_loss_that_does_not_depend_on_what_is_differentiated_is_no_verdict_never_a_pass(user_module):
    """(0.0, zeros) is the gradient of its own constant loss: true, and it checks nothing. A reference that is 0 in
    every case gives no verdict on that parameter."""
    f = user_module("import numpy as np\ndef fake(W, X):\n    return 0.0, np.zeros_like(W)\n")
    report = check_gradients(f("fake"), shapes="W: D,C; X: N,D", cases=CASES)
    assert report["verdict"] == "no verdict" and report["parameters"]["W"]["kind"] == "vacuous"


def test_arguments_left_out_before_one_given_are_refused_not_shifted(user_module):
    """Arguments are passed by position: reg given without y would reach the method as y. Refused by name, in
    every convention that --shapes draws for."""
    f = user_module('''
        import numpy as np
        class Net:
            def __init__(self, input_size):
                self.params = {"W": np.zeros((input_size, 2))}
            def loss(self, X, y=None, reg=0.0):
                W = self.params["W"]
                return np.sum((X @ W) ** 2) + reg * np.sum(W * W), {"W": 2 * X.T @ (X @ W) + 2 * reg * W}
        def plain(W, X, y=None, reg=0.0):
            return np.sum((X @ W) ** 2) + reg * np.sum(W * W), 2 * X.T @ (X @ W) + 2 * reg * W
        ''')
    for function, shapes in (("Net.loss", "X: N,D; reg: 0.1"), ("plain", "W: D,M; X: N,D; reg: 0.1")):
        with pytest.raises(UsageError, match="passed in order: give y, or leave out every argument after it"):
            check_gradients(f(function), shapes=shapes, cases=2)
