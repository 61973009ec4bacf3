"""The docs' code runs, the gradcheck reports they show are what gradcheck prints today,
and the code and tests they cite exist."""

import re
import shlex

import pytest

from gradcheck.cli import main

from .paths import ROOT

DOCS = [ROOT / "README.md", *(ROOT / "docs" / f"{name}.md" for name in ("derivation", "any-derivation", "course-assignment"))]
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)


def blocks(doc, language):
    return [body for lang, body in FENCE.findall(doc.read_text()) if lang == language]


@pytest.mark.slow
@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_python_blocks_run(doc, monkeypatch):
    """A document's blocks run in order in one namespace, as a reader would run them from the repository's
    root; the test functions a block defines (the pytest-helper examples) run and pass."""
    monkeypatch.chdir(ROOT)
    namespace = {}
    for code in blocks(doc, "python"):
        exec(compile(code, str(doc), "exec"), namespace)
    for name, value in list(namespace.items()):
        if name.startswith("test_") and callable(value):
            value()


def _lines(text):
    """What gradcheck prints holds no digit, index or ordering that roundoff decides (an agreeing parameter
    shows "< tol"; ties for the worst entry go to the first), so a transcript compares line for line."""
    return [line.rstrip() for line in text.strip().splitlines()]


TRANSCRIPTS = [pytest.param(body, id=f"{doc.name}:{body.splitlines()[0][2:60]}")
               for doc in DOCS for body in blocks(doc, "text") if body.startswith("$ gradcheck")]


@pytest.mark.slow
@pytest.mark.parametrize("transcript", TRANSCRIPTS)
def test_gradcheck_transcripts_are_current(transcript, monkeypatch, capsys):
    command, _, expected = transcript.partition("\n")
    monkeypatch.chdir(ROOT)
    status = main(shlex.split(command)[2:])
    assert _lines(capsys.readouterr().out) == _lines(expected)
    verdict = expected.strip().splitlines()[-1]
    assert status == (1 if verdict.startswith("FAIL") else 3 if verdict.startswith("NO VERDICT") else 0)


def _tables(heading):
    """The tables of docs/derivation.md's section that starts with `heading`, as lists of rows of cells."""
    section = (ROOT / "docs" / "derivation.md").read_text().split(heading)[1].split("\n## ")[0]
    return [[[cell.strip() for cell in line.strip().strip("|").split("|")] for line in block.splitlines()
             if line.startswith("| ") and "---" not in line] for block in section.split("\n\n") if "| ---" in block]


@pytest.mark.parametrize("heading, count, rows", [("## Where each result lives", 2, 14),
                                                  ("## Second order", 1, 8)])
def test_cited_code_and_tests_exist(heading, count, rows):
    """docs/derivation.md's tables tie each result to a line of code and a test: both must exist.
    A column headed "line in `manual_grad/…py`" cites that file; "checked by" cites tests."""
    tables = _tables(heading)
    assert len(tables) == count and sum(len(t) - 1 for t in tables) >= rows
    for header, *rows in tables:
        sources = {i: (ROOT / re.search(r"`(manual_grad/\w+\.py)`", cell).group(1)).read_text()
                   for i, cell in enumerate(header) if cell.startswith("line in")}
        tests = header.index("checked by")
        for row in rows:
            for column, source in sources.items():
                for code in re.findall(r"`([^`]+)`", row[column]):
                    assert code in source, (row[0], code)
            for path, name in re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", row[tests]):
                assert f"def {name}(" in (ROOT / path).read_text(), (path, name)
