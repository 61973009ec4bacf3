"""gradcheck's HTML page, read as a person reads it: opened in a real headless Chromium (Debian's, which
.ci/run installs), driven by Playwright, on a laptop-sized and a phone-sized window; and the same content
shown by a report in a notebook."""

import json
import re
import shutil

import pytest

from gradcheck import check_gradients
from gradcheck.cli import main

from .paths import EXAMPLES, ROOT

pytestmark = pytest.mark.slow

WINDOWS = {"laptop": (1280, 800), "phone": (390, 844)}
# As the project's probe starts Chromium as root in a container: no sandbox, no GPU, no network chatter.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("no Chromium on this machine: .ci/run installs Debian's (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def page_for(tmp_path, argv, name="report.html"):
    path = tmp_path / name
    main([*argv, "--html", str(path), "--quiet"])
    return path


SEED = [f"{EXAMPLES}/seed_transcription.py:grad", "--cases", "12"]


def test_the_page_is_self_contained(tmp_path):
    text = page_for(tmp_path, SEED).read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", text), "nothing may be fetched from a network"
    assert "<link" not in text and "<script src" not in text
    assert "<svg" in text and "<style>" in text
    assert f"gradcheck {EXAMPLES}/seed_transcription.py:grad --cases 12 --html" in text  # the command to reproduce


def test_without_matplotlib_the_page_keeps_its_tables_and_says_what_the_images_need(tmp_path, monkeypatch):
    from gradcheck.report import html

    real = html.importlib.util.find_spec
    monkeypatch.setattr(html.importlib.util, "find_spec", lambda name: None if name == "matplotlib" else real(name))
    text = page_for(tmp_path, SEED).read_text()
    assert "<svg" not in text and "The heatmaps need matplotlib: pip install -e &#39;.[plot]&#39;." in text
    assert "matches φ(z2) where φ&#39;(z2) belongs" in text


@pytest.mark.parametrize("window", WINDOWS, ids=WINDOWS)
def test_a_failing_report_reads_in_a_browser(browser, tmp_path, window):
    path = page_for(tmp_path, SEED)
    width, height = WINDOWS[window]
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(path.as_uri())
    assert page.locator(".badge").inner_text() == "FAIL" and page.locator(".badge").is_visible()
    row = page.locator("table.parameters tr[data-name='b1']")
    assert row.is_visible() and "FAIL" in row.inner_text()
    diagnosis = row.locator("td.diagnosis")
    assert diagnosis.is_visible() and "matches φ(z2) where φ'(z2) belongs" in diagnosis.inner_text()
    box = diagnosis.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, "the diagnosis must be readable without scrolling"
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page must not be wider than the window"
    figure = page.locator("figure svg")
    figure.scroll_into_view_if_needed()
    assert figure.is_visible() and figure.bounding_box()["width"] > 0.5 * min(width, 1000)
    shot = tmp_path / f"{window}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    page.close()


def test_the_cases_sort_and_expand(browser, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(page_for(tmp_path, SEED).as_uri())
    header = page.locator("table.cases th", has_text="failed")
    header.click()
    header.click()  # descending: the cases with the most wrong parameters first
    first = page.locator("table.cases > tbody > tr").first
    counts = [int(c) for c in page.locator("table.cases > tbody > tr > td:nth-child(6)").all_inner_texts()]
    assert counts == sorted(counts, reverse=True) and counts[0] >= 1
    first.locator("summary").click()
    errors = first.locator("table.errors")
    assert errors.is_visible() and "b1" in errors.inner_text()
    page.close()


@pytest.mark.parametrize("argv, expected", [
    (["--depth", "3", "--cases", "6"], ["W3", "b3"]),
    ([f"{EXAMPLES}/models/mlp_mse_half.py:grad", "--loss", f"{EXAMPLES}/models/mlp_mse.py:loss",
      "--sample", f"{EXAMPLES}/models/mlp_mse.py:sample", "--cases", "3"], ["off by a constant factor 1/2", "taylor"]),
    ([f"{EXAMPLES}/layers/layer_mistakes.py:affine_backward", "--forward", f"{EXAMPLES}/layers/layers.py:affine_forward",
      "--sample", f"{EXAMPLES}/layers/layers.py:sample_affine", "--cases", "3"], ["transposed", "jax.vjp"]),
    ([f"{ROOT}/tests/adversaries/exit_at_import.py:grad"], ["called sys.exit(0)"]),
], ids=["depth 3", "loss mode", "layer mode", "cannot be loaded"])
def test_every_mode_renders(browser, tmp_path, argv, expected):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(page_for(tmp_path, argv).as_uri())
    body = page.locator("body").inner_text()
    assert all(words in body for words in expected), body[:2000]
    page.close()


def test_a_report_shows_itself_in_a_notebook_as_the_page_does():
    report = check_gradients(f"{EXAMPLES}/seed_transcription.py:grad", cases=6)
    json.loads(json.dumps(report))  # still a JSON-ready dict
    assert report["ok"] is False and not report["parameters"]["b1"]["ok"]
    shown = report._repr_html_()
    assert shown.startswith('<div class="gradcheck-report"') and "<html" not in shown
    assert "matches φ(z2) where φ&#39;(z2) belongs" in shown and "<svg" in shown
    assert "check_gradients(&#39;" in shown  # the call that reproduces it
