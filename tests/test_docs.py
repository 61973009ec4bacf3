"""The README's code runs, and the gradcheck reports it shows are what gradcheck prints today."""

import re
from pathlib import Path

import pytest

from jax_reference.gradcheck.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md"]
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)
NUMBER = re.compile(r"-?\d+\.\d+(?:e[+-]\d+)?")


def blocks(language, starting=""):
    found = []
    for doc in DOCS:
        for lang, body in FENCE.findall(doc.read_text()):
            if lang == language and body.startswith(starting):
                found.append(pytest.param(body, id=f"{doc.name}:{body.splitlines()[0][:50]}"))
    return found


@pytest.mark.parametrize("code", blocks("python"))
def test_python_blocks_run(code, tmp_path, monkeypatch):
    """Each block runs; the test functions a block defines (the pytest-helper example) run and pass."""
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(code, "doc", "exec"), namespace)
    for name, value in namespace.items():
        if name.startswith("test_") and callable(value):
            value()


def _normalised(text):
    """Numbers to 3 digits; errors at roundoff level (below 1e-8) differ between machines and BLAS builds."""

    def number(match):
        value = float(match.group())
        return "~0" if abs(value) < 1e-8 else f"{value:.3g}"

    return [NUMBER.sub(number, line.rstrip()) for line in text.strip().splitlines()]


@pytest.mark.parametrize("transcript", blocks("text", starting="$ gradcheck"))
def test_gradcheck_transcripts_are_current(transcript, monkeypatch, capsys):
    command, _, expected = transcript.partition("\n")
    monkeypatch.chdir(ROOT)
    main(command.split()[2:])
    assert _normalised(capsys.readouterr().out) == _normalised(expected)
