"""The persistent compilation cache: a second run loads what the first compiled, and nothing it reports
depends on that; a cache that cannot be used or read is said once, never a failure."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from gradcheck import cache
from gradcheck.problems import memo

from .paths import MODELS, ROOT

GRADCHECK = str(Path(sysconfig.get_path("scripts")) / "gradcheck")
LOSS = [f"{MODELS}/softmax_regression_sum.py:grad", "--loss", f"{MODELS}/softmax_regression.py:loss",
        "--sample", f"{MODELS}/softmax_regression.py:sample", "--cases", "6"]
SEED = ["--cases", "30", "--activation", "tanh", "--activation", "relu"]

pytestmark = pytest.mark.slow


def untimed(report):
    """The JSON report at `report`, without the reference's timings (a cold and a warm run differ in them alone)."""
    content = json.loads(report.read_text())
    for timing in ("reference compile s", "reference run s"):
        content["config"].pop(timing, None)
    return content


def gradcheck(argv, cache_home, tmp_path):
    """(exit status, the JSON report without the reference's timings, stderr) of the console script."""
    report = tmp_path / "report.json"
    done = subprocess.run([GRADCHECK, *argv, "--quiet", "--json", str(report)], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "XDG_CACHE_HOME": str(cache_home)})
    return done.returncode, untimed(report), done.stderr


def entries(cache_home):
    """JAX's compiled programs."""
    return sorted((cache_home / "gradcheck").glob("*-cache"))


def kept(cache_home):
    """gradcheck's references (problems.memo)."""
    return sorted((cache_home / "gradcheck" / memo.FOLDER).glob(f"*{memo.SUFFIX}"))


@pytest.fixture(scope="module")
def seed_cold(tmp_path_factory):
    """(the cache a cold seed-mode run leaves, its result): one run (JAX's start and a compilation) for the tests
    that each take a copy of that cache on from there."""
    folder = tmp_path_factory.mktemp("seed-cold")
    return folder / "home", gradcheck(SEED, folder / "home", folder)


def warmed(seed_cold, tmp_path):
    """A copy of the cold seed-mode run's cache, for a test of its own."""
    home = tmp_path / "home"
    shutil.copytree(seed_cold[0], home)
    return home


@pytest.mark.parametrize("argv", [LOSS, SEED], ids=["loss mode", "seed mode"])
def test_a_warm_cache_changes_nothing_reported(argv, request, tmp_path):
    if argv is SEED:
        seed_cold = request.getfixturevalue("seed_cold")
        home, cold = warmed(seed_cold, tmp_path), seed_cold[1]
    else:
        home = tmp_path / "home"
        cold = gradcheck(argv, home, tmp_path)
    assert entries(home)  # the first run kept what it compiled (and, for the loss mode, computed)
    # and JAX's own bound, which walks the folder at every program it writes, was off (gradcheck.cache.trim's)
    assert not list((home / "gradcheck").glob(f"*{cache.ACCESS_TIME}"))
    warm = gradcheck(argv, home, tmp_path)
    assert cold == warm and cold[2] == ""


def test_a_cache_restored_at_another_path_serves_as_well(seed_cold, tmp_path):
    """As a CI job's cache step restores it: the compiled programs' keys do not hold the folder's path."""
    home = warmed(seed_cold, tmp_path)  # another path
    shutil.rmtree(home / "gradcheck" / memo.FOLDER)  # so that the references are computed, and JAX compiles
    compiled = entries(home)
    status, report, err = gradcheck(SEED, home, tmp_path)
    assert status == 0 and report == seed_cold[1][1] and err == ""
    assert [entry.name for entry in entries(home)] == [entry.name for entry in compiled]  # loaded, none added


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


def test_a_corrupt_cache_is_computed_again_and_said_once_for_each_kind_of_entry(seed_cold, tmp_path):
    home, (_, cold, _) = warmed(seed_cold, tmp_path), seed_cold[1]
    assert kept(home)
    for entry in entries(home) + kept(home):
        entry.write_bytes(b"not a compiled program")
    status, warm, err = gradcheck(SEED, home, tmp_path)
    assert status == 0 and warm == cold
    said = err.splitlines()
    assert len(said) == 2 and "has references that cannot be read" in said[0] and "computed again" in said[0]
    assert "has entries that cannot be read" in said[1] and "compiled again" in said[1]


def test_a_warm_seed_run_computes_nothing_and_imports_no_jax(seed_cold, tmp_path):
    """Every chunk of references kept: the run is NumPy's alone, and its report the cold run's."""
    home, (_, cold, _) = warmed(seed_cold, tmp_path), seed_cold[1]
    report = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-c", "import sys; from gradcheck.cli import main; "
                           f"status = main({[*SEED, '--quiet', '--json', str(report)]!r}); "
                           "print(status, 'jax' in sys.modules)"],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, "XDG_CACHE_HOME": str(home)})
    assert done.stdout.split() == ["0", "False"], done.stderr
    assert untimed(report) == cold
