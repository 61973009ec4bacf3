"""The persistent compilation cache: a second run loads what the first compiled, and nothing it reports
depends on that; a cache that cannot be used or read is said once, never a failure."""

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from gradcheck.problems import memo

from .paths import MODELS, ROOT

GRADCHECK = str(Path(sysconfig.get_path("scripts")) / "gradcheck")
LOSS = [f"{MODELS}/softmax_regression_sum.py:grad", "--loss", f"{MODELS}/softmax_regression.py:loss",
        "--sample", f"{MODELS}/softmax_regression.py:sample", "--cases", "6"]
SEED = ["--cases", "30", "--activation", "tanh", "--activation", "relu"]

pytestmark = pytest.mark.slow


def gradcheck(argv, cache_home, tmp_path):
    """(exit status, the JSON report without the reference's timings, stderr) of the console script."""
    report = tmp_path / "report.json"
    done = subprocess.run([GRADCHECK, *argv, "--quiet", "--json", str(report)], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "XDG_CACHE_HOME": str(cache_home)})
    content = json.loads(report.read_text())
    for timing in ("reference compile s", "reference run s"):
        content["config"].pop(timing, None)
    return done.returncode, content, done.stderr


def entries(cache_home):
    """JAX's compiled programs."""
    return sorted((cache_home / "gradcheck").glob("*-cache"))


def kept(cache_home):
    """gradcheck's references (problems.memo)."""
    return sorted((cache_home / "gradcheck" / memo.FOLDER).glob(f"*{memo.SUFFIX}"))


@pytest.mark.parametrize("argv", [LOSS, SEED], ids=["loss mode", "seed mode"])
def test_a_warm_cache_changes_nothing_reported(argv, tmp_path):
    cold = gradcheck(argv, tmp_path / "home", tmp_path)
    assert entries(tmp_path / "home")  # the first run kept what it compiled (and, for the loss mode, computed)
    warm = gradcheck(argv, tmp_path / "home", tmp_path)
    assert cold == warm and cold[2] == ""


def test_no_cache_keeps_nothing(tmp_path):
    status, _, _ = gradcheck([*LOSS, "--no-cache"], tmp_path / "home", tmp_path)
    assert status == 1 and not entries(tmp_path / "home") and not (tmp_path / "home" / "gradcheck").exists()


def test_a_cache_that_cannot_be_used_is_said_once_and_changes_nothing(tmp_path):
    blocked = tmp_path / "a file"
    blocked.write_text("not a folder")
    status, report, err = gradcheck(SEED, blocked, tmp_path)
    assert status == 0 and report["ok"]
    assert err.splitlines() == [f"gradcheck: warning: the compilation cache cannot be used ({blocked}/gradcheck: "
                                "Not a directory); compiling without it"]


def test_a_corrupt_cache_is_computed_again_and_said_once_for_each_kind_of_entry(tmp_path):
    home = tmp_path / "home"
    _, cold, _ = gradcheck(SEED, home, tmp_path)
    assert kept(home)
    for entry in entries(home) + kept(home):
        entry.write_bytes(b"not a compiled program")
    status, warm, err = gradcheck(SEED, home, tmp_path)
    assert status == 0 and warm == cold
    said = err.splitlines()
    assert len(said) == 2 and "has references that cannot be read" in said[0] and "computed again" in said[0]
    assert "has entries that cannot be read" in said[1] and "compiled again" in said[1]


def test_a_warm_seed_run_computes_nothing_and_imports_no_jax(tmp_path):
    """Every chunk of references kept: the run is NumPy's alone, and its report the cold run's."""
    home = tmp_path / "home"
    _, cold, _ = gradcheck(SEED, home, tmp_path)
    report = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-c", "import sys; from gradcheck.cli import main; "
                           f"status = main({[*SEED, '--quiet', '--json', str(report)]!r}); "
                           "print(status, 'jax' in sys.modules)"],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, "XDG_CACHE_HOME": str(home)})
    assert done.stdout.split() == ["0", "False"], done.stderr
    warm = json.loads(report.read_text())
    for timing in ("reference compile s", "reference run s"):
        warm["config"].pop(timing, None)
    assert warm == cold
