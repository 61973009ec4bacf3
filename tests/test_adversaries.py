"""Hostile candidates (tests/adversaries/): whatever a candidate does, only a complete, agreeing sweep
exits 0, and a failing one still writes its reports."""

import json
import os
import signal
import subprocess
import sysconfig
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gradcheck import check_gradients
from gradcheck.cli import main

from .paths import ADVERSARIES

pytestmark = pytest.mark.slow

GRADCHECK = str(Path(sysconfig.get_path("scripts")) / "gradcheck")

# file -> (exit status, the kind of failure the report must name, words its message must contain)
EXPECTED = {
    "exit_zero": (1, "exited", "called sys.exit(0) (at tests/adversaries/exit_zero.py:7)"),
    "exit_message": (1, "exited", "called sys.exit('stop here')"),
    "os_exit": (1, "crashed", "crashed: its process exited with status 0"),
    "segfault": (1, "crashed", "killed by signal SIGSEGV (Segmentation fault) at tests/adversaries/segfault.py:7 in grad"),
    "hang": (1, "timed out", "did not return within 1 s (--timeout)"),
    "returns_tuple": (1, "returned", "returned a tuple of 4 items, not a dict"),
    # Writes into gradcheck's own channel: whatever comes there that is not a reply ends the process, so that no
    # later reply can be taken for another call's.
    "garbage_reply": (1, "broke the channel", "broke gradcheck's channel: its process wrote something other than a reply"),
    "malformed_reply": (1, "broke the channel", "wrote something other than a reply to gradcheck's channel (a malformed reply (IndexError))"),
    "oversized_reply": (1, "broke the channel", "(a message of 4294967295 bytes, more than the 268435456 allowed)"),
}


@pytest.mark.parametrize("name", EXPECTED)
def test_a_candidate_that_fails_to_return_is_wrong_and_reported(name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ADVERSARIES.parent.parent)
    status, kind, words = EXPECTED[name]
    json_path, junit_path = tmp_path / "r.json", tmp_path / "r.xml"
    argv = [f"tests/adversaries/{name}.py:grad", "--cases", "4", "--timeout", "1",
            "--json", str(json_path), "--junit", str(junit_path)]
    assert main(argv) == status
    out = capsys.readouterr().out
    report = json.loads(json_path.read_text())
    assert report["ok"] is False and report["complete"] is False
    assert report["failures"][0]["kind"] == kind and words in report["failures"][0]["message"], report["failures"]
    assert report["failures"][0]["cases"][0] == 0 and report["failures"][0]["first_case"].startswith("case 0 (N=")
    # Every case is accounted for: failed as above, or not run after the process failed too often.
    assert sorted(i for f in report["failures"] for i in f["cases"]) == [0, 1, 2, 3]
    assert all(p["kind"] == "no result" for p in report["parameters"].values())
    assert f"FAIL: the candidate {report['failures'][0]['message']}" in out and out.count("FAIL: the candidate ") == 2
    calls = {c.get("name"): c for c in ET.parse(junit_path).getroot().iter("testcase")}["candidate.calls"]
    assert words in calls.find("failure").get("message")


@pytest.mark.parametrize("name, words", [
    ("returns_lists", "not an array (a list of"),
    ("jax_arrays", "the dtype is float32 for float64 inputs"),
])
def test_a_candidate_that_returns_the_wrong_kind_of_array_is_wrong(name, words, capsys):
    assert main([f"{ADVERSARIES}/{name}.py:grad", "--cases", "3"]) == 1
    assert words in capsys.readouterr().out


def test_a_candidate_whose_signature_does_not_fit_the_mode_is_a_usage_error(capsys):
    """A calling-convention mismatch is no wrong gradient: exit 2 before any case, naming where it belongs."""
    assert main([f"{ADVERSARIES}/wrong_signature.py:grad", "--cases", "2"]) == 2
    err = capsys.readouterr().err
    assert "grad(params, X, y) at " in err and "wrong_signature.py:6 cannot be called as (params, X, y, lam, activation)" in err
    assert "--loss LOSS --sample SAMPLE" in err and err.count("\n") == 1


def test_exit_at_import_cannot_be_loaded(capfd):
    assert main([f"{ADVERSARIES}/exit_at_import.py:grad"]) == 2
    out, err = capfd.readouterr()
    assert out == "" and err.strip().endswith("exit_at_import.py called sys.exit(0)")


def test_a_chatty_candidate_is_counted_not_shown_and_quiet_means_quiet(capfd):
    """What reaches this process's file descriptors 1 and 2, the command's stdout and stderr, from it or from its
    workers."""
    spec = f"{ADVERSARIES}/chatty.py:grad"
    assert main([spec, "--cases", "3", "--activation", "tanh"]) == 0  # printing is not a mistake
    out, err = capfd.readouterr()
    assert "debug 1:" not in out and err == ""  # only the first line is quoted, in the note
    assert "note: the candidate printed 6000 lines" in out and "3 lines (15 B) to stderr" in out
    assert main([spec, "--cases", "3", "--activation", "tanh", "--quiet"]) == 0
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize("delay", [0.0, 1.5], ids=["while JAX loads", "while the candidate hangs"])
def test_ctrl_c_stops_with_one_line_130_and_no_worker_left(tmp_path, delay):
    pid_file = tmp_path / "worker.pid"
    process = subprocess.Popen([GRADCHECK, f"{ADVERSARIES}/hang.py:grad", "--timeout", "60"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "HANG_PID_FILE": str(pid_file)})
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    worker = int(pid_file.read_text())
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert (process.returncode, out, err) == (130, "", "gradcheck: interrupted\n")
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.kill(worker, 0)


def test_the_library_api_isolates_a_spec():
    report = check_gradients(f"{ADVERSARIES}/os_exit.py:grad", cases=2, timeout=5)
    assert not report["ok"] and report["failures"][0]["kind"] == "crashed"
    report = check_gradients("manual_grad:grad", cases=3, stages=True)
    assert report["ok"] and report["stages"]["delta2"]["ok"]


def test_a_call_in_hand_when_the_process_crashed_is_run_by_the_next():
    """gradcheck sends the next case's call before the last one's reply comes: a crash takes that call down
    with its process, and it is sent again to the next, not lost. Crashes in cases 1 and 3 (the processes'
    second calls); cases 0, 2 and 4, the first call of each, are judged and agree."""
    report = check_gradients(f"{ADVERSARIES}/crash_every_second_call.py:grad", cases=5, timeout=5)
    assert [(f["kind"], f["cases"]) for f in report["failures"]] == [("crashed", [1, 3])]
    assert [c["ok"] for c in report["cases"]] == [True, False, True, False, True]
