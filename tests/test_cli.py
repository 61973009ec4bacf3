"""The gradcheck command: reports written and read back, exit statuses, and usage errors that
say one line, exit 2, write nothing, run no case and import no JAX."""

import gc
import json
import os
import subprocess
import sys
import sysconfig
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gradcheck.cli import main

from .paths import EXAMPLES, ROOT

CASES = 30


# main(argv) for each argv in turn, in one fresh interpreter: a line of JSON each, with whether JAX was imported
# by then (once imported it stays, so the first run that imports it fails, and every run after it).
PROBE = """
import contextlib, io, json, sys
from gradcheck.cli import main
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exc:
            status = exc.code
    print(json.dumps([status, out.getvalue(), err.getvalue(), "jax" in sys.modules]))
"""


def run_fresh(argvs):
    """[(exit status, stdout, stderr, whether JAX was imported)] of main(argv) for each argv, in a fresh
    interpreter: one start-up for them all, where a usage error's whole point is what it does not import."""
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argvs)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return [tuple(json.loads(line)) for line in done.stdout.splitlines()]


@pytest.mark.slow
def test_cli_json_and_junit_for_a_wrong_candidate(tmp_path, capsys):
    json_path, junit_path = tmp_path / "report.json", tmp_path / "report.xml"
    status = main([f"{EXAMPLES}/seed_transcription.py:grad", "--cases", str(CASES),
                   "--json", str(json_path), "--junit", str(junit_path)])
    assert status == 1
    out = capsys.readouterr().out
    assert "b1  FAIL" in out and "FAIL: the candidate is wrong" in out

    report = json.loads(json_path.read_text())
    assert report["ok"] is False and report["complete"] is True
    assert {k: v["ok"] for k, v in report["parameters"].items()} == {"W1": True, "b1": False, "W2": True, "b2": True}
    assert "φ(z2) where φ'(z2) belongs" in report["parameters"]["b1"]["diagnosis"]
    assert len(report["cases"]) == CASES and {"N", "D", "H", "K", "lam", "activation", "ok"} <= set(report["cases"][0])

    suite = ET.parse(junit_path).getroot()
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert set(cases) == {"parameters.W1", "parameters.b1", "parameters.W2", "parameters.b2", "candidate.calls",
                          "witness.finite_differences"}
    failure = cases["parameters.b1"].find("failure")
    assert "φ(z2) where φ'(z2) belongs" in failure.get("message")  # CI pages show the reason
    assert all(cases[n].find("failure") is None for n in cases if n != "parameters.b1")
    assert suite.get("failures") == "1"


@pytest.mark.slow  # its candidate loads in a worker
def test_cli_passes_manual_grad_with_stages(tmp_path, capsys):
    assert main(["--cases", "12", "--stages", "--json", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["ok"] and report["complete"] and set(report["stages"]) == {"delta3", "delta2"}
    assert "OK: the candidate agrees with autodiff" in capsys.readouterr().out


@pytest.mark.slow  # its candidate loads in a worker
def test_the_report_is_printed_before_files_are_written(tmp_path, capsys, monkeypatch):
    from gradcheck import cli

    def disk_full(path, content):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(cli, "_write", disk_full)
    assert main(["--cases", "3", "--json", str(tmp_path / "r.json")]) == 2
    captured = capsys.readouterr()
    assert "OK: the candidate agrees with autodiff" in captured.out
    assert captured.err == f"gradcheck: writing {tmp_path / 'r.json'}: No space left on device\n"


def _unwritable(tmp_path):
    """A path that cannot be created, even by root (which ignores permission bits)."""
    if os.geteuid() == 0:
        return "/proc/self/gradcheck-report.json"
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o500)
    return str(folder / "report.json")


OPTIONS, WHERE = ["--json", "--junit", "--plot"], ["missing folder", "a folder", "unwritable", "under a file"]


@pytest.fixture(scope="module")
def unwritable_runs(tmp_path_factory):
    """(option, where) -> (its folder, the path given, main's result), each in a folder of its own."""
    runs = {}
    for option in OPTIONS:
        for where in WHERE:
            folder = tmp_path_factory.mktemp("out")
            (folder / "a_file").write_text("")
            path = {"missing folder": str(folder / "no" / "such" / "r.out"), "a folder": str(folder),
                    "unwritable": _unwritable(folder), "under a file": str(folder / "a_file" / "r.out")}[where]
            runs[option, where] = folder, path, ["--cases", "500", option, path]
    results = run_fresh([argv for _, _, argv in runs.values()])
    return {key: (folder, path, result) for (key, (folder, path, _)), result in zip(runs.items(), results)}


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("where", WHERE)
def test_an_output_path_that_cannot_be_written_is_a_usage_error_before_any_case(option, where, unwritable_runs):
    folder, path, (status, out, err, jax_imported) = unwritable_runs[option, where]
    assert status == 2 and out == ""
    assert err.startswith(f"gradcheck: {option} {path}: ") and "\n" not in err.strip() and "Traceback" not in err
    assert not jax_imported  # nothing ran
    assert sorted(p.name for p in folder.iterdir()) == sorted(["a_file", *(["read-only"] if "read-only" in path else [])])


USAGE_ERRORS = [
    (["--seed", "-1"], "argument --seed: expected an integer >= 0, got -1"),
    (["--seed", "x"], "argument --seed: expected an integer >= 0, got 'x'"),
    (["--cases", "0"], "argument --cases: expected an integer >= 1, got 0"),
    (["--timeout", "0"], "argument --timeout: expected a number of seconds > 0, got '0'"),
    (["--timeout", "nan"], "argument --timeout: expected a number of seconds > 0, got 'nan'"),
    (["--dtype", "float16"], "argument --dtype: invalid choice: 'float16'"),
    (["--activation", "gelu"], "argument --activation: invalid choice: 'gelu'"),
    (["--lam", "-1"], "argument --lam: expected a finite λ >= 0, got '-1'"),
    (["--lam", "nan"], "argument --lam: expected a finite λ >= 0, got 'nan'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--json", "same.json", "--junit", "same.json"], "--json, --junit must name different files"),
    (["no/such/file.py:grad"], "cannot load candidate 'no/such/file.py:grad': no such file: no/such/file.py"),
    (["manual_grad"], "expected path/to/file.py:function or package.module:function"),
]


@pytest.fixture(scope="module")
def usage_error_runs():
    return run_fresh([argv for argv, _ in USAGE_ERRORS])


@pytest.mark.parametrize("index", range(len(USAGE_ERRORS)), ids=[" ".join(argv) for argv, _ in USAGE_ERRORS])
def test_usage_errors_exit_2_with_one_line_and_no_jax(index, usage_error_runs):
    words = USAGE_ERRORS[index][1]
    status, out, err, jax_imported = usage_error_runs[index]
    assert status == 2 and out == "" and not jax_imported
    assert words in err and "\n" not in err.strip() and "Traceback" not in err, err


@pytest.mark.slow  # its candidate loads in a worker
@pytest.mark.parametrize("spec, words", [
    ("no_such_module_xyz:grad", "cannot import module 'no_such_module_xyz'"),
    ("manual_grad:no_such_function", "manual_grad has no function 'no_such_function'"),
    ("manual_grad:PARAM_NAMES", "is a tuple, not a function"),
    (f"{ROOT / 'tests' / 'adversaries' / 'exit_at_import.py'}:grad", "exit_at_import.py called sys.exit(0)"),
])
def test_cli_unloadable_candidate_exits_2(spec, words, capsys):
    assert main([spec]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and err.count("\n") == 1


@pytest.mark.slow  # its candidate loads in a worker
def test_a_candidate_that_cannot_load_still_gets_its_reports(tmp_path, capsys):
    (tmp_path / "broken.py").write_text("def grad(:\n")
    json_path, junit_path = tmp_path / "r.json", tmp_path / "r.xml"
    assert main([f"{tmp_path}/broken.py:grad", "--json", str(json_path), "--junit", str(junit_path)]) == 2
    assert "importing" in capsys.readouterr().err
    assert json.loads(json_path.read_text())["load_error"].startswith("cannot load candidate")
    assert ET.parse(junit_path).getroot().get("failures") == "1"


@pytest.mark.slow  # its candidate loads in a worker
def test_a_module_name_run_beside_its_file_suggests_the_file(tmp_path, monkeypatch, capsys):
    (tmp_path / "my_grad.py").write_text("import manual_grad\ngrad = manual_grad.grad\n")
    monkeypatch.chdir(tmp_path)
    assert main(["my_grad:grad"]) == 2
    assert "my_grad.py is in this folder: did you mean my_grad.py:grad?" in capsys.readouterr().err


@pytest.mark.slow  # its candidate loads in a worker
def test_stages_without_a_stages_function_names_the_file(capsys):
    assert main([f"{EXAMPLES}/sum_not_mean.py:grad", "--stages"]) == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert f"--stages: {EXAMPLES}/sum_not_mean.py has no function 'stages'" in err
    assert "expected stages(params, X, y, activation)" in err


@pytest.mark.slow
def test_console_script_exit_statuses():
    """The installed command, as CI runs it: the script pip put beside this interpreter.
    (One activation, so that each process compiles once.)"""
    gradcheck = str(Path(sysconfig.get_path("scripts")) / "gradcheck")
    ok = subprocess.run([gradcheck, "--cases", "4", "--activation", "tanh", "--quiet"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout == "" and ok.stderr == ""
    wrong = subprocess.run([gradcheck, f"{EXAMPLES}/sum_not_mean.py:grad", "--cases", "4", "--activation", "tanh"],
                           capture_output=True, text=True)
    assert wrong.returncode == 1 and "N times too large" in wrong.stdout
    usage = subprocess.run([gradcheck, "--cases", "0"], capture_output=True, text=True)
    assert usage.returncode == 2 and "argument --cases" in usage.stderr
    help_ = subprocess.run([gradcheck, "--help"], capture_output=True, text=True)
    assert help_.returncode == 0 and "--timeout SECONDS" in help_.stdout


def test_the_console_script_is_main_without_the_cyclic_garbage_collector(monkeypatch):
    """The command's process leaves Python's cyclic collector off (cli.script: it would walk the million objects
    JAX's import leaves, again and again); main's status is the command's."""
    from importlib.metadata import entry_points

    from gradcheck import cli

    assert [e.value for e in entry_points(group="console_scripts", name="gradcheck")] == ["gradcheck.cli:script"]
    seen = []
    monkeypatch.setattr(cli, "main", lambda: seen.append(gc.isenabled()) or 3)
    gc.collect()  # what script() freezes is then this process's live objects only
    try:
        assert cli.script() == 3 and seen == [False]
    finally:
        gc.enable()


@pytest.mark.slow
def test_a_reader_that_stops_early_changes_no_status_and_shows_no_traceback(tmp_path):
    """gradcheck … | head: the pipe is closed before the report is printed; the exit status and the files are the
    verdict's, and stderr stays clean."""
    gradcheck = str(Path(sysconfig.get_path("scripts")) / "gradcheck")
    report = tmp_path / "r.json"
    process = subprocess.Popen([gradcheck, f"{EXAMPLES}/sum_not_mean.py:grad", "--cases", "4", "--activation", "tanh",
                                "--json", str(report)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdout.close()  # the reader is gone before a word is written
    err = process.stderr.read()
    assert process.wait() == 1 and err == ""
    assert json.loads(report.read_text())["verdict"] == "fail"


@pytest.mark.slow
def test_plot_draws_the_worst_case(tmp_path):
    import matplotlib.image

    path = tmp_path / "seed.png"
    assert main([f"{EXAMPLES}/seed_transcription.py:grad", "--cases", "12", "--plot", str(path), "--quiet"]) == 1
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 400 and image.shape[1] > 800
    assert image[..., :3].std() > 0.05  # not blank


def test_plot_without_matplotlib_is_a_usage_error(monkeypatch, capsys):
    from gradcheck import cli

    real = cli.importlib.util.find_spec
    monkeypatch.setattr(cli.importlib.util, "find_spec", lambda name: None if name == "matplotlib" else real(name))
    assert main(["--cases", "2", "--plot", "x.png"]) == 2
    assert "--plot needs matplotlib" in capsys.readouterr().err
