"""References kept between runs (gradcheck.problems.memo): a second run takes what the first computed, reports
the same, and takes nothing that the user's code, as it is now, would not compute."""

import os
import shutil
import textwrap

import numpy as np
import pytest

from gradcheck import cache, check_gradients, check_vjp
from gradcheck.cli import main
from gradcheck.errors import SetupError
from gradcheck.problems import memo

from .paths import LAYERS, MODELS

CASES = 4
SOFTMAX = str(MODELS / "softmax_regression.py")
LOSS = {"loss": f"{SOFTMAX}:loss", "sample": f"{SOFTMAX}:sample"}
LAYER = {"forward": f"{LAYERS}/layers.py:batchnorm_forward", "sample": f"{LAYERS}/layers.py:sample_batchnorm"}


def kept(home):
    return sorted((home / "gradcheck" / memo.FOLDER).glob(f"*{memo.SUFFIX}"))


def without_timing(report):
    config = {k: v for k, v in report["config"].items() if k not in ("reference compile s", "reference run s")}
    return {**report, "config": config}


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory):
    return tmp_path_factory.mktemp("memo") / "home"


@pytest.fixture
def home(shared_home, monkeypatch):
    """A cache folder for these tests (the session's is shared by every test), its references each test's own:
    emptied before it. JAX's compiled programs stay, and so does the reference's worker, kept from one check to
    the next as it is for a library user's checks in a row (a folder a test, each a worker importing JAX: 8 s)."""
    shutil.rmtree(shared_home / "gradcheck" / memo.FOLDER, ignore_errors=True)
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared_home))
    return shared_home


@pytest.mark.slow
@pytest.mark.parametrize("check, candidate, wrong, specs", [
    (check_gradients, f"{SOFTMAX}:grad", f"{MODELS}/softmax_regression_sum.py:grad", LOSS),
    (check_vjp, f"{LAYERS}/layers.py:batchnorm_backward", f"{LAYERS}/layer_mistakes.py:batchnorm_backward", LAYER)],
    ids=["loss", "layer"])
def test_a_second_run_takes_the_kept_references_and_reports_the_same(home, check, candidate, wrong, specs):
    first = check(candidate, **specs, cases=CASES, cache=True)
    assert first["ok"] and len(kept(home)) == CASES
    second = check(candidate, **specs, cases=CASES, cache=True)
    assert second["config"]["reference compile s"] == second["config"]["reference run s"] == 0  # none computed
    assert without_timing(second) == without_timing(first)
    assert check(wrong, **specs, cases=CASES, cache=True)["verdict"] == "fail"  # the candidate is run every time


LOSS_READING_A_FILE = '''
    import pathlib
    import numpy as np

    SCALE = float(pathlib.Path(__file__).with_name("scale.txt").read_text())

    def loss(params, X):
        return SCALE * np.sum(np.sin(X @ params["w"]))

    def grad(params, X):
        return {"w": SCALE * X.T @ np.cos(X @ params["w"])}

    def sample(rng):
        D = int(rng.integers(2, 6))
        return {"w": rng.standard_normal(D)}, (rng.standard_normal((3, D)),)
    '''


@pytest.mark.slow
def test_a_kept_reference_is_taken_only_where_the_loss_has_the_value_kept_with_it(home, user_module):
    """The key holds the user's files, not a data file the loss reads: the NumPy loss's value, computed in every
    run, tells a kept reference of another loss. Without that check, the second check holds the right candidate
    to the references of SCALE = 1 and fails it (tried)."""
    f = user_module(textwrap.dedent(LOSS_READING_A_FILE))
    f.path.with_name("scale.txt").write_text("1.0")
    specs = {"loss": f"{f.path}:loss", "sample": f"{f.path}:sample", "cases": CASES, "cache": True}
    assert check_gradients(f"{f.path}:grad", **specs)["ok"]
    f.path.with_name("scale.txt").write_text("3.0")
    report = check_gradients(f"{f.path}:grad", **specs)
    assert report["ok"] and report["config"]["reference compile s"] > 0  # computed again, for SCALE = 3
    again = check_gradients(f"{f.path}:grad", **specs)
    assert again["ok"] and again["config"]["reference compile s"] == 0  # and kept in place of SCALE = 1's
    f.path.with_name("scale.txt").write_text(repr(float(np.nextafter(3.0, 4.0))))  # the loss moves by a unit of rounding
    nudged = check_gradients(f"{f.path}:grad", **specs)
    assert nudged["ok"] and nudged["config"]["reference compile s"] > 0  # to the bit: computed again


@pytest.mark.slow
def test_unreadable_entries_are_computed_again_and_said_once(home, capsys):
    first = check_gradients(f"{SOFTMAX}:grad", **LOSS, cases=CASES, cache=True)
    for entry in kept(home):
        entry.write_bytes(b"not an entry")
    capsys.readouterr()
    again = check_gradients(f"{SOFTMAX}:grad", **LOSS, cases=CASES, cache=True)
    said = capsys.readouterr().err.splitlines()
    assert without_timing(again) == without_timing(first)
    assert len(said) == 1 and "has references that cannot be read" in said[0] and "computed again" in said[0]


def store(tmp_path):
    return memo.Store(tmp_path / memo.FOLDER, ("loss", [("loss", "f.py:loss")]))


def test_the_key_holds_every_byte_of_the_case_and_refuses_what_it_cannot_write_down(tmp_path):
    s = store(tmp_path)
    x = np.arange(6.0).reshape(2, 3)
    keys = {s.key(({"w": x}, (1, 0.5))), s.key(({"w": x.T.copy()}, (1, 0.5))), s.key(({"w": x.astype(np.float32)},
            (1, 0.5))), s.key(({"w": x + 1e-300}, (1, 0.5))), s.key(({"w": x}, (2, 0.5))), s.key(({"v": x}, (1, 0.5)))}
    assert len(keys) == 6 and s.key(({"w": x}, (1, 0.5))) in keys  # the same case, the same key
    assert memo.Store(tmp_path, ("layer", [])).key(({"w": x}, (1, 0.5))) not in keys  # another mode
    assert s.key(({"w": x}, (object(),))) is None


def test_entries_are_kept_whole_and_bounded_the_least_recently_used_going_first(tmp_path, monkeypatch):
    s = store(tmp_path)
    check, grads = np.float64(1.5), {"W": np.ones((50, 50)), "b": np.zeros(50)}
    s.put("a", check, {"grads": grads, "eager": False})
    got = s.get("a")
    assert got[0] == check and got[1]["eager"] is False and np.array_equal(got[1]["grads"]["W"], grads["W"])
    size = (s.folder / f"a{memo.SUFFIX}").stat().st_size
    monkeypatch.setattr(memo, "MAX_BYTES", int(3.5 * size))
    for key in "bcd":
        s.put(key, check, {"grads": grads})
    assert sorted(p.stem for p in s.folder.glob(f"*{memo.SUFFIX}")) == ["c", "d"]  # past the bound, down to 3/4 of it
    assert s.get("a") is None and not list(s.folder.glob("*.tmp"))


def test_compiled_programs_are_bounded_the_least_recently_read_or_written_going_first(tmp_path, monkeypatch):
    """The compilation cache's own bound, walked as a run starts (JAX's walked the folder at every program it
    wrote): past MAX_BYTES, down to 3/4 of it; a program's last use is its last read or its writing."""
    folder = tmp_path / "gradcheck"
    (folder / "references").mkdir(parents=True)
    for key, (read, written) in {"a": (100, 100), "b": (500, 200), "c": (300, 300), "d": (400, 400)}.items():
        program = folder / f"{key}{cache.PROGRAM}"
        program.write_bytes(b"x" * 1000)
        os.utime(program, (read, written))
    (folder / f"a{cache.ACCESS_TIME}").write_bytes(bytes(8))  # JAX's own bound's, from an older gradcheck
    monkeypatch.setattr(cache, "MAX_BYTES", 4000)
    cache.trim(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["a-cache", "b-cache", "c-cache", "d-cache", "references"]
    monkeypatch.setattr(cache, "MAX_BYTES", 3500)
    assert cache.choose(True, {"XDG_CACHE_HOME": str(tmp_path)}) == folder  # as a run starts
    assert sorted(p.name for p in folder.iterdir()) == ["b-cache", "d-cache", "references"]  # 4000 to 2000


@pytest.mark.slow
def test_a_run_whose_references_are_all_kept_imports_no_jax_in_the_references_worker(home, tmp_path, monkeypatch):
    """The second run's reference worker finds a `jax` that cannot be imported first on its path, and passes: the
    user's loss is rewritten for jax.numpy, and JAX imported, only for a reference that is not kept."""
    first = check_gradients(f"{SOFTMAX}:grad", **LOSS, cases=CASES, cache=True)
    (tmp_path / "no_jax" / "jax").mkdir(parents=True)
    (tmp_path / "no_jax" / "jax" / "__init__.py").write_text("raise ImportError('JAX was imported')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "no_jax"))
    second = check_gradients(f"{SOFTMAX}:grad", **LOSS, cases=CASES, cache=True)
    assert without_timing(second) == without_timing(first)
    with pytest.raises(SetupError, match="JAX was imported"):  # a case not kept: the stand-in is met
        check_gradients(f"{SOFTMAX}:grad", **LOSS, cases=CASES + 1, cache=True)


@pytest.mark.slow
def test_a_loss_that_no_longer_runs_under_jax_numpy_is_said_at_its_line_when_its_references_were_kept(
        home, user_module, capsys):
    f = user_module(textwrap.dedent(LOSS_READING_A_FILE))
    f.path.with_name("scale.txt").write_text("1.0")
    argv = [f"{f.path}:grad", "--loss", f"{f.path}:loss", "--sample", f"{f.path}:sample", "--cases", "2"]
    assert main([*argv, "--quiet"]) == 0
    with f.path.open("a") as file:  # NumPy's scalar types are jax.numpy's there: the module fails as it loads
        file.write('assert isinstance(np.float64(1.0), float), "a NumPy scalar"\n')
    capsys.readouterr()
    assert main(argv) == 2
    assert "the loss cannot run under jax.numpy at user.py:16 `assert isinstance(np.float64(1.0), float)" in \
        capsys.readouterr().err
