"""docs/tutorial.ipynb, run top to bottom as a learner runs it (nbclient, a fresh kernel). Its outputs are
stripped in the repository; this test executes it and checks what the cells show."""


import nbformat
import pytest
from nbclient import NotebookClient

from .paths import DOCS

pytestmark = pytest.mark.slow

NOTEBOOK = DOCS / "tutorial.ipynb"


def outputs(notebook, tag):
    cell = next(c for c in notebook.cells if tag in c.get("metadata", {}).get("tags", []))
    return cell["outputs"]


def shown(outs, mime):
    return "".join(o.get("data", {}).get(mime, "") + o.get("text", "") for o in outs)


def test_the_tutorial_runs_top_to_bottom_and_shows_what_it_says():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code"), "outputs are kept stripped"
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    mistake = shown(outputs(notebook, "mistake-report"), "text/html")
    assert "FAIL" in mistake and "matches φ(z2) where φ&#39;(z2) belongs" in mistake and "<svg" in mistake
    assert "(False, \"matches φ(z2) where φ'(z2) belongs" in shown(outputs(notebook, "mistake-diagnosis"), "text/plain")
    fixed = shown(outputs(notebook, "fixed-report"), "text/html")
    assert "OK" in fixed and "delta2" in fixed and "FAIL" not in fixed.split("<h2>Parameters")[1].split("</table>")[0]
    assert "every parameter and every stage agrees" in shown(outputs(notebook, "fixed-assert"), "text/plain")
