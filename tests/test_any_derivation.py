"""gradcheck's loss and layer modes: any NumPy loss or layer, checked against autodiff of the user's own
code run with jax.numpy, with the mistake named; and every way the user's sampler or loss can fail,
reported as a usage error (exit 2), never as a pass."""

import json
import re
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gradcheck import UsageError, assert_vjp_agree, check_gradients, check_vjp, text
from gradcheck.cli import main
from gradcheck.isolation.loader import load
from gradcheck.problems import sampled
from gradcheck.problems.layer import LayerProblem
from gradcheck.problems.loss import LossProblem

from .paths import LAYERS, MODELS

CASES = 6


def model(name, function):
    return load(f"{MODELS / name}.py:{function}")[0]


def layer(name, function):
    return load(f"{LAYERS / name}.py:{function}")[0]


# (model file, the mistaken grad's file, {parameter: words its diagnosis must contain, or "" for any FAIL})
LOSS_EXAMPLES = [
    ("softmax_regression", "softmax_regression_sum", {"W": "N times too large", "b": "N times too large"}),
    ("svm", "svm_true_class", {"W": ""}),
    ("logistic_regression", "logistic_regression_sign", {"w": "sign flipped", "b": "sign flipped"}),
    ("mlp_mse", "mlp_mse_half", dict.fromkeys(["W1", "b1", "W2", "b2", "W3", "b3"], "off by a constant factor 1/2")),
]


@pytest.mark.slow
@pytest.mark.parametrize("name, mistake, expected", LOSS_EXAMPLES, ids=[e[0] for e in LOSS_EXAMPLES])
def test_each_model_passes_and_its_mistake_is_named(name, mistake, expected):
    loss, sample = model(name, "loss"), model(name, "sample")
    right = check_gradients(model(name, "grad"), loss=loss, sample=sample, cases=CASES)
    assert right["ok"], text(right)
    assert all(s["candidate"]["slope"] is None or s["candidate"]["slope"] > 1.8 for s in right["witness"]["taylor"].values())
    wrong = check_gradients(model(mistake, "grad"), loss=loss, sample=sample, cases=CASES)
    assert not wrong["ok"]
    for parameter, words in expected.items():
        p = wrong["parameters"][parameter]
        assert not p["ok"] and words in p["diagnosis"], (parameter, p["diagnosis"])
        assert wrong["witness"]["taylor"][parameter]["candidate"]["slope"] < 1.2  # the Taylor test sees it too


# (layer, {input: words its diagnosis must contain, or "" for any FAIL}; the others must agree)
LAYER_EXAMPLES = [("affine", {"w": "transposed"}), ("relu", {"x": ""}), ("batchnorm", {"x": ""})]


@pytest.mark.slow
@pytest.mark.parametrize("name, expected", LAYER_EXAMPLES, ids=[e[0] for e in LAYER_EXAMPLES])
def test_each_layer_passes_and_its_mistake_is_named(name, expected):
    forward, sample = layer("layers", f"{name}_forward"), layer("layers", f"sample_{name}")
    right = check_vjp(layer("layers", f"{name}_backward"), forward=forward, sample=sample, cases=CASES)
    assert right["ok"], text(right)
    wrong = check_vjp(layer("layer_mistakes", f"{name}_backward"), forward=forward, sample=sample, cases=CASES)
    assert not wrong["ok"]
    for parameter, p in wrong["parameters"].items():
        if parameter in expected:
            assert not p["ok"] and expected[parameter] in p["diagnosis"], (parameter, p["diagnosis"])
        else:
            assert p["ok"], (parameter, p["diagnosis"])


def test_a_layer_report_names_the_forward_arguments(user_module):
    report = check_vjp(layer("layers", "affine_backward"), forward=layer("layers", "affine_forward"),
                       sample=layer("layers", "sample_affine"), cases=2)
    assert list(report["parameters"]) == ["x", "w", "b"]
    with pytest.raises(AssertionError, match="transposed"):
        assert_vjp_agree(layer("layer_mistakes", "affine_backward"), forward=layer("layers", "affine_forward"),
                         sample=layer("layers", "sample_affine"), cases=2)


SAMPLE = '''
def sample(rng):
    N, D = int(rng.integers(2, 9)), int(rng.integers(2, 7))
    return {"w": rng.standard_normal(D)}, (rng.standard_normal((N, D)), rng.integers(0, 2, N))
'''


def checked(user_module, source, grad="grad", **options):
    """The library on a user file of loss, grad and sample, every function called in this process."""
    f = user_module("import numpy as np\n" + textwrap.dedent(source) + SAMPLE)
    return check_gradients(f(grad), loss=f("loss"), sample=f("sample"), cases=4, **options)


def run(user_module, source, *extra, grad="grad", quiet=False):
    """gradcheck's command line on a user file of loss, grad and sample: (exit status, JSON report)."""
    path = user_module("import numpy as np\n" + textwrap.dedent(source) + SAMPLE).path
    report = path.parent / "report.json"
    status = main([f"{path}:{grad}", "--loss", f"{path}:loss", "--sample", f"{path}:sample", "--cases", "4",
                   "--json", str(report), *(["--quiet"] if quiet else []), *extra])
    return status, json.loads(report.read_text()) if report.exists() else None


# The in-place idioms jax.numpy cannot run, rewritten into their functional form for the reference.
IDIOMS = {
    "np.newaxis, which is None": '''
        def loss(params, X, y):
            return np.sum((X[:, np.newaxis, :] * params["w"][np.newaxis, :, np.newaxis]) ** 2)
        def grad(params, X, y):
            return {"w": 2 * params["w"] * np.sum(X ** 2)}
        ''',
    "item assignment": '''
        def loss(params, X, y):
            s = X @ params["w"]
            m = np.maximum(0, 1 - s)
            m[y == 1] = 0
            return m.sum()
        def grad(params, X, y):
            s = X @ params["w"]
            active = ((1 - s) > 0) & (y != 1)
            return {"w": -(X * active[:, None]).sum(axis=0)}
        ''',
    "augmented item assignment and ufunc.at": '''
        def loss(params, X, y):
            s = X @ params["w"]
            t = np.zeros(2)
            np.add.at(t, y, s)
            t[0] *= 2
            return np.sum(t ** 2)
        def grad(params, X, y):
            s = X @ params["w"]
            t = np.zeros(2)
            np.add.at(t, y, s)
            t[0] *= 2
            weights = 2 * t[y] * np.where(y == 0, 2.0, 1.0)
            return {"w": X.T @ weights}
        ''',
    "range as an index, and an unused import from NumPy's internals": '''
        from numpy._core.multiarray import normalize_axis_index
        def loss(params, X, y):
            s = np.stack([X @ params["w"], -(X @ params["w"])], axis=1)
            s = s - s.max(axis=1, keepdims=True)
            return -np.sum(s[range(len(y)), y] - np.log(np.exp(s).sum(axis=1)))
        def grad(params, X, y):
            z = X @ params["w"]
            p = 1 / (1 + np.exp(-2 * z))  # the softmax of (z, -z) at class 0
            return {"w": -(X.T @ (2 * ((y == 0) - p)))}
        ''',
    "chained and tuple-target item assignment": '''
        def loss(params, X, y):
            t = np.zeros((len(y), 2))
            for i in range(len(y)):
                t[i][y[i]] = 1  # chained, as one-hot codes are written
            out = np.zeros((len(y), 2))
            out[:, 0], extra = X @ params["w"], 2.0  # a tuple target, as an RNN's h[:, t, :], cache = step(...)
            return np.sum(t * out) * extra
        def grad(params, X, y):
            return {"w": 2.0 * X.T @ (y == 0).astype(float)}
        ''',
    "np.pad with NumPy's short pad widths": '''
        def loss(params, X, y):
            padded = np.pad(X * params["w"], ((0,), (1,)), "constant")  # ((0, 0), (1, 1))
            return np.sum(padded ** 2)
        def grad(params, X, y):
            return {"w": 2 * np.sum(X ** 2 * params["w"], axis=0)}
        ''',
    "from numpy import, and Python if on a value": '''
        from numpy import exp
        def loss(params, X, y):
            z = X @ params["w"]
            total = np.sum(exp(-z))
            if total > 1e12:
                return total
            return np.log(total)
        def grad(params, X, y):
            e = np.exp(-(X @ params["w"]))
            return {"w": -(X.T @ e) / e.sum()}
        ''',
}


@pytest.mark.slow
@pytest.mark.parametrize("source", IDIOMS.values(), ids=IDIOMS.keys())
def test_numpy_idioms_run_under_jax_numpy(source, user_module):
    report = checked(user_module, source)
    assert report["ok"], text(report)


def test_writes_through_a_boolean_mask_of_traced_values_compile_with_numpys_semantics(user_module):
    """x[x < 0] = 0, a row for every row a mask picks, and x[mask] += v: jax.jit cannot index with a mask that
    depends on traced values; the rewrite computes them as jnp.where, compiled, not run op by op."""
    report = checked(user_module, '''
        def loss(params, X, y):
            s = np.outer(X @ params["w"], params["w"])
            s[s < 0] = 0.5
            s[y == 1] = params["w"] ** 2
            s[s > 1] += 2.0
            return np.sum(s ** 2)
        def grad(params, X, y):
            w = params["w"]
            s = np.outer(X @ w, w)
            pos = s >= 0
            s[~pos] = 0.5
            row = y == 1
            s[row] = w ** 2
            big = s > 1
            s[big] += 2.0
            ds = 2 * s
            ds[~pos & ~row[:, None]] = 0
            g = ((ds * np.where(row[:, None], 0, 1)) @ w) @ X + (ds * np.where(row[:, None], 0, 1)).T @ (X @ w)
            g += 2 * w * ds[row].sum(axis=0)
            return {"w": g}
        ''')
    assert report["ok"], text(report)
    assert report["config"]["reference eager"] is False


NAIVE = '''
    import numpy as np

    def filled(w, X):
        """A naive loop's writes, one entry at a time, with NumPy's semantics to keep."""
        out = np.zeros((X.shape[0], 3), dtype=np.float32)
        for n in range(X.shape[0]):
            for k in range(3):
                out[n, k] = np.sum(X[n] * w) * (k + 1)
        out[0, 1] = w[0] ** 2  # a second write to one entry: the last wins
        out[1, 2] += out[1, 0] * w[1]  # read back, then written
        twice = np.ones(3) * out  # used as an array (a NumPy array on the left), then written again
        out[-1, 0] = w[1]  # a negative index
        out[:, 2] = out[:, 2] + np.sum(twice)  # a slice: written as an array
        out[2, 2] = 0.5  # a constant after the slice
        return {"out": out, "sum": np.sum(out) + out.sum()}
    '''


def test_a_naive_loops_entries_become_one_array_with_numpys_semantics(user_module):
    """out[n, k] = v, entry by entry, compiled as one scatter (not one per entry), with the values NumPy
    computes: the last write wins, reads see earlier writes, the array's dtype is kept."""
    import jax

    from gradcheck.isolation import jaxnumpy

    path = user_module(NAIVE).path
    numpy_filled = load(f"{path}:filled")[0]
    jax_filled = jaxnumpy.load(path, ["filled"])["filled"]
    rng = np.random.default_rng(0)
    w, X = rng.standard_normal(4), rng.standard_normal((5, 4))
    expected = numpy_filled(w, X)
    with jax.enable_x64(True):
        got = jax.jit(jax_filled)(w, X)
        program = jax.make_jaxpr(lambda w: jax_filled(w, X)["out"])(w)
    assert got["out"].dtype == np.float32
    np.testing.assert_allclose(got["out"], expected["out"], rtol=1e-6)
    np.testing.assert_allclose(got["sum"], expected["sum"], rtol=1e-6)
    scatters = [e for e in program.eqns if e.primitive.name.startswith("scatter")]
    # At most four: the loop's 15 entries in one (when 2 * out uses them), the entry written before the slice,
    # the slice, and the constant after it.
    assert len(scatters) <= 4


WRITES = '''
    import numpy as np

    def written(w, ops):
        """Writes of a naive loop, in the order `ops` says: one entry, one entry updated, one entry from another,
        a column, the whole array scaled."""
        out = np.zeros((3, 4))
        for kind, i, j, k in ops:
            if kind == 0:
                out[i, j] = w[k] * (i + 1)
            elif kind == 1:
                out[i, j] += w[k]
            elif kind == 2:
                out[i, j] = out[(i + 1) % 3, j] * w[k]
            elif kind == 3:
                out[:, j] = out[:, j] + w[k]
            else:
                out = out * w[k]
        return out
    '''
OPS = st.lists(st.tuples(st.sampled_from([0, 0, 1, 2, 3, 4]), st.integers(-3, 2), st.integers(-4, 3),
                         st.integers(0, 2)), max_size=12)


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(ops=OPS)
def test_any_order_of_entry_column_and_whole_writes_computes_what_numpy_does(ops, tmp_path_factory):
    """However a loop mixes writes of one entry (kept as Entries) with writes of a column and uses of the whole
    array (which build it), the array and its gradient are NumPy's."""
    import jax

    from gradcheck.isolation import jaxnumpy
    from jax_reference import fast_compile

    folder = tmp_path_factory.mktemp("writes")
    (folder / "writes.py").write_text(textwrap.dedent(WRITES))
    path = folder / "writes.py"
    numpy_written = load(f"{path}:written")[0]
    jax_written = jaxnumpy.load(path, ["written"])["written"]
    w, ops = np.array([0.5, -1.5, 2.0]), tuple(ops)
    # Compiled, as gradcheck compiles a reference (problems.user_code): eagerly, every write at new indices is a
    # compilation of its own (0.7 s an example against 0.2 s).
    value_and_grad = fast_compile.Jitted(lambda w: (jax_written(w, ops), jax.grad(lambda w: jax_written(w, ops).sum())(w)))
    with jax.enable_x64(True):
        got, grad = value_and_grad(True, w)
    np.testing.assert_allclose(got, numpy_written(w, ops), rtol=1e-12, atol=1e-12)
    h = 1e-6  # the sum is a polynomial of degree at most 2 per step in w: central differences are near exact
    fd = [(numpy_written(w + h * e, ops).sum() - numpy_written(w - h * e, ops).sum()) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("source, words", [
    ('''
        def loss(params, X, y):
            m = np.zeros_like(X)
            m.T[:, 0] = params["w"]  # a write through an attribute's view: no functional form is written for it
            return m.sum()
        ''', "cannot be changed in place: write x = x.at[index].set(value)"),
    ('''
        def loss(params, X, y):
            windows = np.lib.stride_tricks.sliding_window_view(X @ params["w"], 2)
            return windows.sum()
        ''', "cannot run under jax.numpy at user.py:4 `windows = np.lib.stride_tricks.sliding_window_view(X @ "
           "params[\"w\"], 2)`: 'lib' is not in jax.numpy"),
    ('''
        def loss(params, X, y):
            return X @ params["w"]
        ''', "the loss must return a scalar"),
])
def test_code_that_cannot_run_under_jax_numpy_is_a_usage_error_at_its_line(source, words, user_module, capsys):
    status, report = run(user_module, textwrap.dedent(source) + "\ndef grad(params, X, y):\n    return {'w': params['w']}\n")
    err = capsys.readouterr().err
    assert status == 2 and words in err and "Traceback" not in err and err.count("\n") == 1, err
    assert words in report["load_error"]


SAMPLERS = {
    "a list": ("def sample(rng):\n    return [1, 2, 3]\n",
               "sample(rng) must return (params, data); got a list of 3 items"),
    "int params": ("def sample(rng):\n    return {'w': np.arange(3)}, ()\n", "params['w'] must be a float array"),
    "nan": ("def sample(rng):\n    return {'w': np.array([1.0, np.nan])}, ()\n", "non-finite params['w']: nan at (1,)"),
    "data not a tuple": ("def sample(rng):\n    return {'w': np.ones(2)}, np.ones(3)\n",
                         "data must be a tuple of the arguments after params"),
    "sys.exit": ("import sys\ndef sample(rng):\n    sys.exit(0)\n", "the sampler called sys.exit(0)"),
    "raises": ("def sample(rng):\n    raise RuntimeError('no data here')\n", "the sampler raised RuntimeError: no data here"),
}


def sampler_file(user_module, sample):
    return user_module("import numpy as np\ndef loss(params, *data):\n    return np.sum(params['w'] ** 2)\n"
                 "def grad(params, *data):\n    return {'w': 2 * params['w']}\n" + sample)


@pytest.mark.parametrize("sample, words", SAMPLERS.values(), ids=SAMPLERS.keys())
def test_a_sampler_that_returns_the_wrong_thing_is_a_usage_error(sample, words, user_module):
    f = sampler_file(user_module, sample)
    with pytest.raises(UsageError, match=re.escape(words)) as raised:
        check_gradients(f("grad"), loss=f("loss"), sample=f("sample"), cases=2)
    assert str(raised.value).endswith("in case 0")


@pytest.mark.slow
@pytest.mark.parametrize("sample, words", [
    SAMPLERS["a list"],
    # Only a value that must cross to the candidate's process has to be one gradcheck can pass.
    ("def sample(rng):\n    return {'w': np.ones(2)}, (object(),)\n", "data[0] is an object, which gradcheck cannot pass"),
], ids=["a list", "an object"])
def test_a_sampler_that_returns_the_wrong_thing_is_exit_2_in_one_line(sample, words, user_module, capsys):
    path = sampler_file(user_module, sample).path
    status = main([f"{path}:grad", "--loss", f"{path}:loss", "--sample", f"{path}:sample", "--cases", "2"])
    err = capsys.readouterr().err
    assert status == 2 and words in err and "in case 0" in err and err.count("\n") == 1, err


# On a GPU, JAX's default precision runs float32 matrix products in TF32, far outside the float32 tolerance.
# These functions read the setting as JAX traces them (the module's name says when it runs under jax.numpy)
# and double their output without full precision, so the tests fail on any machine if the reference lacks it.
PRECISION = '''
    import jax
    def scale():
        traced = __name__.startswith("gradcheck_jax_numpy")
        return 2.0 if traced and jax.config.jax_default_matmul_precision != "highest" else 1.0
    '''


def test_the_loss_mode_reference_multiplies_matrices_in_full_precision(user_module):
    report = checked(user_module, textwrap.dedent(PRECISION) + textwrap.dedent('''
        def loss(params, X, y):
            return scale() * np.sum((X @ params["w"]) ** 2)
        def grad(params, X, y):
            return {"w": 2 * X.T @ (X @ params["w"])}
        '''))
    assert report["ok"]


@pytest.mark.slow
def test_the_layer_mode_reference_multiplies_matrices_in_full_precision(user_module):
    path = user_module("import numpy as np\n" + textwrap.dedent(PRECISION) + '''
def forward(x, w):
    return scale() * (x @ w), (x, w)
def backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout
def sample(rng):
    return (rng.standard_normal((3, 4)), rng.standard_normal((4, 2)))
''').path
    assert main([f"{path}:backward", "--forward", f"{path}:forward", "--sample", f"{path}:sample", "--cases", "3",
                 "--quiet"]) == 0


@pytest.mark.slow
def test_a_reference_that_is_not_finite_is_no_verdict_and_never_a_pass(user_module):
    # Under jax.numpy only (see PRECISION), and in the cases with an even N: sqrt(w − w) leaves the loss as it
    # is but makes its gradient 0 · ∞ = nan, as a faulty reference or machine would.
    status, report = run(user_module, '''
        def loss(params, X, y):
            traced = __name__.startswith("gradcheck_jax_numpy")
            fault = np.sum(np.sqrt(params["w"] - params["w"])) if traced and X.shape[0] % 2 == 0 else 0.0
            return np.sum((X @ params["w"]) ** 2) + fault
        def grad(params, X, y):
            return {"w": 2 * X.T @ (X @ params["w"])}
        ''', "--cases", "8")
    assert status == 3 and not report["ok"] and report["verdict"] == "no verdict"
    w = report["parameters"]["w"]
    assert w["kind"] == "reference not finite" and w["diagnosis"].startswith("no verdict in ")
    assert "a fault of the reference or of the machine it ran on" in report["hint"]
    assert text(report).splitlines()[-1].startswith("NO VERDICT: w could not be judged")
    assert "the candidate is wrong" not in text(report)


@pytest.mark.slow
def test_a_candidate_that_crashes_in_loss_mode_is_wrong(user_module):
    status, report = run(user_module, '''
        import os
        def loss(params, X, y):
            return np.sum(params["w"] ** 2)
        def grad(params, X, y):
            os._exit(0)
        ''')
    assert status == 1 and report["failures"][0]["kind"] == "crashed"


def assert_same_program(a, b):
    """Two compilations of one float64 computation: equal to rounding, 1e-13 of the array's largest entry (an
    entry that cancels to near zero may differ in every digit on another CPU)."""
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13 * float(np.max(np.abs(b), initial=0.0)))


@pytest.mark.slow
def test_the_sweeps_references_by_one_program_are_each_cases_own_and_the_sampler_runs_once_a_case(
        user_module, monkeypatch):
    """The loss mode's plan: the cases drawn first, and their references computed by one program of all their
    shapes (problems.loss.LossSide.plan). They are what each case's own program computes, and each case's
    sample is drawn once: the plan's draw is the case's."""
    f = user_module(textwrap.dedent('''
        import pathlib
        import numpy as np

        def loss(params, X, y):
            return np.mean(np.log1p(np.exp(-(2 * y - 1) * (X @ params["w"])))) + 0.1 * np.sum(params["w"] ** 2)

        def grad(params, X, y):
            s = -(2 * y - 1) / (1 + np.exp((2 * y - 1) * (X @ params["w"])))
            return {"w": X.T @ s / len(y) + 0.2 * params["w"]}
        ''') + SAMPLE.replace("def sample(rng):\n", "def sample(rng):\n"
                                 "    with open(pathlib.Path(__file__).with_name('draws'), 'a') as log:\n"
                                 "        log.write('a draw\\n')\n"))
    specs = {"loss": f"{f.path}:loss", "sample": f"{f.path}:sample", "cases": 6}
    planned = check_gradients(f"{f.path}:grad", **specs)
    assert planned["ok"] and f.path.with_name("draws").read_text().count("a draw") == 6
    monkeypatch.setattr(LossProblem, "plans", False)
    alone = check_gradients(f"{f.path}:grad", **specs)
    for a, b in zip(planned.results, alone.results):
        for name, reference in a.arrays["reference"].items():
            assert_same_program(reference, b.arrays["reference"][name])


@pytest.mark.slow
def test_a_layers_planned_references_and_cotangents_are_each_cases_own(monkeypatch):
    """The layer mode's plan, in this process: each case's cotangent drawn as its own call would draw it."""
    forward, sample = layer("layers", "batchnorm_forward"), layer("layers", "sample_batchnorm")
    specs = {"forward": forward, "sample": sample, "cases": 5}
    planned = check_vjp(layer("layers", "batchnorm_backward"), **specs)
    monkeypatch.setattr(LayerProblem, "plans", False)
    alone = check_vjp(layer("layers", "batchnorm_backward"), **specs)
    assert planned["ok"] and alone["ok"]
    for a, b in zip(planned.results, alone.results):  # the same references, so the same cotangents
        for name, reference in a.arrays["reference"].items():
            assert_same_program(reference, b.arrays["reference"][name])


@pytest.mark.slow
def test_a_reference_worker_kept_for_the_next_check_reads_the_files_as_they_are_now(user_module):
    """A check leaves its reference's worker idle for the next in this process (JAX imported once), which has it
    forget the user's modules: a helper edited between two checks is read again. Were it not, the second check
    would hold the unchanged candidate to the helper's old factor, and pass it."""
    helper = user_module("def factor():\n    return 2.0\n", name="helpers")
    f = user_module("import numpy as np\nfrom helpers import factor\n" + textwrap.dedent('''
        def loss(params, X, y):
            return factor() * np.sum(params["w"] ** 2)
        def grad(params, X, y):
            return {"w": 4.0 * params["w"]}
        ''') + SAMPLE)
    specs = {"loss": f"{f.path}:loss", "sample": f"{f.path}:sample"}
    assert check_gradients(f"{f.path}:grad", **specs, cases=2)["ok"]
    key = sampled.Workers().key  # this process's environment, with no cache folder (cache=False)
    kept = sampled._IDLE[key]
    helper.path.write_text("def factor():\n    return 3.0\n")
    report = check_gradients(f"{f.path}:grad", **specs, cases=2)
    assert report["verdict"] == "fail"
    assert sampled._IDLE[key] is kept  # the same worker served both


def test_wrong_keys(user_module):
    report = checked(user_module, '''
        def loss(params, X, y):
            return np.sum(params["w"] ** 2)
        def grad(params, X, y):
            return {"W": 2 * params["w"]}
        ''')
    assert report["verdict"] == "fail" and report["parameters"]["w"]["kind"] == "missing"
    assert report["extra_keys"] == ["W"]


def test_an_entry_at_a_kink_is_not_held_against_the_candidate(user_module):
    """np.maximum(0, w) at w = 0 exactly: autodiff takes 1/2 there, the derivation 0; neither is wrong."""
    f = user_module('''
        import numpy as np
        def loss(params):
            return np.sum(np.maximum(0, params["w"]))
        def grad(params):
            return {"w": (params["w"] > 0).astype(float)}
        def sample(rng):
            w = rng.standard_normal(int(rng.integers(2, 9)))
            w[0] = 0.0  # on the kink
            return {"w": w}, ()
        ''')
    report = check_gradients(f("grad"), loss=f("loss"), sample=f("sample"), cases=3)
    assert report["ok"] and report["witness"]["cases_at_kinks"] == 3 and report["witness"]["entries_at_kinks"] == 3
    assert all(c["parameters"]["w"]["excused"] == 1 for c in report["cases"])


def test_same_shapes_in_every_case_are_warned_of(user_module):
    f = user_module('''
        import numpy as np
        def loss(params, X):
            return np.sum((X @ params["W"]) ** 2)
        def grad(params, X):
            return {"W": 2 * X.T @ (X @ params["W"])}
        def sample(rng):
            return {"W": rng.standard_normal((3, 3))}, (rng.standard_normal((4, 3)),)
        ''')
    report = check_gradients(f("grad"), loss=f("loss"), sample=f("sample"), cases=3)
    assert report["ok"]
    assert any("every case has the same shapes" in w for w in report["warnings"])
    assert any("W square in every case" in w for w in report["warnings"])


def test_a_loss_written_in_jax_may_be_the_reference(user_module):
    jax_model = user_module('''
        import jax.numpy as jnp
        def jax_loss(params, X, y):
            return jnp.sum(jnp.tanh(X @ params["w"]))
        ''', "jax_model")
    report = checked(user_module, '''
        def loss(params, X, y):
            return np.sum(np.tanh(X @ params["w"]))
        def grad(params, X, y):
            return {"w": X.T @ (1 - np.tanh(X @ params["w"]) ** 2)}
        ''', reference=f"{jax_model.path}:jax_loss")
    assert report["ok"] and "jax_model.py:jax_loss" in report["config"]["reference"]


def test_float32_in_loss_mode(user_module):
    report = checked(user_module, '''
        def loss(params, X, y):
            return np.mean(np.log1p(np.exp(-(2 * y - 1) * (X @ params["w"]))))
        def grad(params, X, y):
            t = (2 * y - 1).astype(X.dtype)  # int labels would promote float32 to float64
            return {"w": X.T @ (-t / (1 + np.exp(t * (X @ params["w"])))) / len(y)}
        ''', dtype="float32")
    assert report["ok"] and report["config"]["dtype"] == "float32"


@pytest.mark.parametrize("argv, words", [
    (["x.py:grad", "--loss", "x.py:loss"], "--loss needs --sample"),
    (["x.py:grad", "--forward", "x.py:f", "--loss", "x.py:l", "--sample", "x.py:s"], "two modes"),
    (["x.py:grad", "--loss", "x.py:loss", "--sample", "x.py:s", "--depth", "3"], "--depth belong to the seed model"),
    (["--sample", "x.py:s"], "--sample without --loss or --forward draws the arguments of a candidate that returns "
                             "(loss, grad): give it"),
    (["x.py:b", "--forward", "x.py:f", "--sample", "x.py:s", "--reference", "x.py:r"], "it belongs with --loss"),
])
def test_mode_options_that_do_not_fit_are_usage_errors(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1


@pytest.mark.slow
def test_plot_json_and_junit_in_the_layer_mode(tmp_path, capsys):
    import xml.etree.ElementTree as ET

    import matplotlib.image

    png, xml, js = tmp_path / "l.png", tmp_path / "l.xml", tmp_path / "l.json"
    status = main([f"{LAYERS}/layer_mistakes.py:affine_backward", "--forward", f"{LAYERS}/layers.py:affine_forward",
                   "--sample", f"{LAYERS}/layers.py:sample_affine", "--cases", "3", "--plot", str(png),
                   "--junit", str(xml), "--json", str(js), "--quiet"])
    assert status == 1 and capsys.readouterr().out == ""
    assert matplotlib.image.imread(png)[..., :3].std() > 0.05
    cases = {c.get("name"): c for c in ET.parse(xml).getroot().iter("testcase")}
    assert "transposed" in cases["parameters.w"].find("failure").get("message")
    assert json.loads(js.read_text())["config"]["mode"] == "layer"


@pytest.mark.slow
def test_a_course_package_imports_itself_as_python_from_its_root_would(tmp_path):
    """cs231n/layers.py importing `from cs231n.optim import …` and `from .helpers import …`: run in the
    workers (python -P), with the package's modules rewritten under jax.numpy too."""
    package = tmp_path / "course_package"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "optim.py").write_text("def sgd(w, dw, config=None):\n    return w - 1e-2 * dw, config\n")
    (package / "helpers.py").write_text("import numpy as np\ndef affine(x, w):\n    return np.dot(x, w)\n")
    (package / "layers.py").write_text(textwrap.dedent('''
        import numpy as np
        from course_package.optim import sgd
        from .helpers import affine
        def forward(x, w):
            return affine(x, w), (x, w)
        def backward(dout, cache, factor=1.0):
            x, w = cache
            return dout @ w.T, factor * x.T @ dout
        def backward_wrong(dout, cache):
            return backward(dout, cache, factor=2.0)
        def sample(rng):
            N, D, M = (int(v) for v in rng.integers(2, 8, 3))
            return rng.standard_normal((N, D)), rng.standard_normal((D, M))
        '''))
    layers = package / "layers.py"
    right = check_vjp(f"{layers}:backward", forward=f"{layers}:forward", sample=f"{layers}:sample", cases=3)
    assert right["ok"], text(right)
    wrong = check_vjp(f"{layers}:backward_wrong", forward=f"{layers}:forward", sample=f"{layers}:sample", cases=3)
    assert "off by a constant factor 2" in wrong["parameters"]["w"]["diagnosis"]
