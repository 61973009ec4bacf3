"""The persistent compilation cache: a second run loads what the first compiled, and nothing it reports
depends on that; a cache that cannot be used or read is said once, never a failure."""

import json
import os
import subprocess
import sysconfig
from pathlib import Path

import pytest

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
    return sorted((cache_home / "gradcheck").glob("*-cache"))


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


def test_a_corrupt_cache_is_compiled_again_and_said_once(tmp_path):
    home = tmp_path / "home"
    _, cold, _ = gradcheck(SEED, home, tmp_path)
    for entry in entries(home):
        entry.write_bytes(b"not a compiled program")
    status, warm, err = gradcheck(SEED, home, tmp_path)
    assert status == 0 and warm == cold
    assert len(err.splitlines()) == 1 and "has entries that cannot be read" in err and "compiled again" in err
