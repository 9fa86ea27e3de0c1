"""Real-browser check: `streamlit run app.py` in Chromium, every page, no exception box.

AppTest runs the scripts but not the front end; this catches what only a browser shows
(plotly rendering, page routing, the sidebar). Screenshots go to tests/browser/screenshots/
(git-ignored) for a human to look at.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# Every page app.py lists, as (file stem, title), so that a new page cannot be left out here.
APP_PAGES = re.findall(r'st\.Page\("pages/(\w+)\.py", title="([^"]+)"', (REPO / "app.py").read_text())
# Tabs to open one after another for screenshots (Streamlit scrolls inside its own container, so
# a tall viewport, not full_page, shows it all), and the pages that draw figures on arrival.
TABS = {"dataset": ["Materials", "Spectra", "Dataset overview"],
        "results": ["Per class", "Per element", "ROC and PR", "Decision boundary", "Training history",
                    "Compare runs", "Configuration"]}
WITH_FIGURES = {"dataset", "clustering", "results", "predict", "present"}
# Every text drawn inside a plot that has a heatmap (periodic tables, confusion matrices) must fit
# its cell: the plot area divided by the heatmap's columns and rows. Returns the misfits.
CELL_TEXT_MISFITS_JS = """
() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(plot => {
  const heatmaps = (plot._fullData || []).filter(t => t.type === 'heatmap' && t.z && t.z.length);
  if (!heatmaps.length) return [];
  const size = plot._fullLayout._size, z = heatmaps[0].z;
  const width = size.w / z[0].length, height = size.h / z.length;
  return [...plot.querySelectorAll('.cartesianlayer .plot text')]
    .filter(t => t.textContent.trim())
    .map(t => ({text: t.textContent, box: t.getBBox()}))
    .filter(({box}) => box.width > width + 0.5 || box.height > height + 0.5)
    .map(({text, box}) => `${text}: ${box.width.toFixed(0)}x${box.height.toFixed(0)} px in a `
                          + `${width.toFixed(0)}x${height.toFixed(0)} px cell`);
})
"""
# Text that the browser cuts with an ellipsis (metric labels, captions, tabs, buttons).
TRUNCATED_JS = """
() => [...document.querySelectorAll('[data-testid="stMain"] *')]
  .filter(e => e.children.length === 0 && e.textContent.trim()
               && getComputedStyle(e).textOverflow === 'ellipsis' && e.scrollWidth > e.clientWidth + 1)
  .map(e => e.textContent.trim())
"""

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed at /usr/bin/chromium "
                       "(apt-get update && apt-get install -y chromium)"),
    pytest.mark.timeout(90),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """A streamlit server on a free local port, reading a small prebuilt demo dataset."""
    from xanes_core.data.demo import generate_demo

    cache = tmp_path_factory.mktemp("browser-cache")
    generate_demo(400, seed=2).save(cache / "datasets" / "demo")
    _train_runs(cache / "datasets" / "demo", cache / "runs")
    port = _free_port()
    env = {**os.environ, "XANES_CACHE": str(cache)}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def _train_runs(dataset: Path, runs: Path) -> None:
    """An SVM and a tiny CNN (newest, so Results opens on it) for the Results page to show."""
    from xanes_core.learn.config import ModelConfig
    from xanes_core.learn.training import Trainer, TrainingConfig

    tiny = ModelConfig(filters=(4, 8, 4), dense_units=(16, 8), symmetry_units=8, head_units=8)
    for model in ("svm", "symmetry"):
        config = TrainingConfig(dataset=str(dataset), model=model, epochs=3, batch_size=64, model_config=tiny)
        Trainer(config, out=runs / model).start().join(timeout=60)


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{process.stdout.read().decode(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("streamlit did not become healthy in time")


def _wait_for_run(page, timeout: int = 30_000) -> None:
    """Wait until Streamlit has finished the script run (the running indicator is gone)."""
    page.wait_for_timeout(500)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout)
    page.wait_for_timeout(500)


@contextmanager
def _chromium_page(**page_options) -> Iterator:
    """A page in Debian's Chromium, closed afterwards (skips when Playwright is missing)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(**page_options)
        finally:
            browser.close()


@pytest.mark.timeout(480)
def test_every_page_renders_without_exception(server: str) -> None:
    assert len(APP_PAGES) >= 6 and APP_PAGES[0] == ("dataset", "Dataset browser")
    SCREENSHOTS.mkdir(exist_ok=True)
    with _chromium_page(viewport={"width": 1400, "height": 3200}) as page:
        for position, (stem, title) in enumerate(APP_PAGES):
            path = "" if position == 0 else stem  # the default page is the app's root
            page.goto(f"{server}/{path}")
            page.get_by_role("heading", name=title).first.wait_for(timeout=60_000)
            _wait_for_run(page, timeout=150_000)  # the presentation loads a model and clusters every element
            page.screenshot(path=str(SCREENSHOTS / f"{stem}.png"), full_page=True)
            for tab in TABS.get(stem, []):
                page.get_by_role("tab", name=tab).click()
                page.wait_for_timeout(800)
                page.screenshot(path=str(SCREENSHOTS / f"{stem}_{tab.lower().replace(' ', '_')}.png"),
                                full_page=True)
            assert page.locator('[data-testid="stException"]').count() == 0, f"exception on /{path}"
            if stem in WITH_FIGURES:
                assert page.locator(".js-plotly-plot").count() > 0, f"no plotly figure on /{path}"
            assert page.get_by_text("synthetic demo data").first.is_visible(), f"no demo label on /{path}"


def _readable(page, where: str) -> None:
    """No heatmap label spills out of its cell and no text is cut short, on what is shown now."""
    page.wait_for_timeout(1500)  # plotly draws after Streamlit's run ends
    assert page.evaluate(CELL_TEXT_MISFITS_JS) == [], f"labels outside their cells on {where}"
    assert page.evaluate(TRUNCATED_JS) == [], f"truncated text on {where}"


@pytest.mark.timeout(240)
def test_figures_and_labels_are_readable_at_1280_px(server: str) -> None:
    """At a projector's 1280x720 (a tall page so everything renders): periodic-table numbers and
    confusion counts fit their cells, and no metric label or caption is cut with an ellipsis."""
    SCREENSHOTS.mkdir(exist_ok=True)
    views = [("", "Dataset browser", ["Dataset overview"]), ("clustering", "Clustering", []),
             ("results", "Results", ["Per class", "Per element"]), ("present", "Presentation", [])]
    with _chromium_page(viewport={"width": 1280, "height": 3600}) as page:
        page.goto(server)
        page.get_by_role("heading", name="Dataset browser").wait_for(timeout=30_000)
        for path, title, tabs in views:
            if path:
                page.get_by_role("link", name=title).click()
            page.get_by_role("heading", name=title).first.wait_for(timeout=60_000)
            _wait_for_run(page, timeout=150_000)  # the presentation loads a model and clusters every element
            for tab in tabs:
                page.get_by_role("tab", name=tab).click()
                _readable(page, f"/{path} {tab}")
            if not tabs:
                _readable(page, f"/{path}")
            page.screenshot(path=str(SCREENSHOTS / f"readable_{path or 'dataset'}_1280.png"), full_page=True)
            assert page.locator('[data-testid="stException"]').count() == 0


def test_training_runs_live_survives_a_reload_and_stops(server: str) -> None:
    """Start a tiny run from the form, watch its curves, reload the browser, stop it."""
    with _chromium_page(viewport={"width": 1400, "height": 2400}) as page:
        page.goto(server)  # through the app's navigation (a first direct link shows a redirect notice)
        page.get_by_role("heading", name="Dataset browser").wait_for(timeout=30_000)
        page.get_by_role("link", name="Training").click()
        page.get_by_role("heading", name="Training").wait_for(timeout=30_000)
        _wait_for_run(page)
        page.screenshot(path=str(SCREENSHOTS / "training.png"), full_page=True)
        # 200 epochs and patience 100: the run cannot end (early stopping) before Stop is clicked,
        # now that the page trains as fast as the CLI
        for label, value in (("Epochs (most)", "200"), ("Early-stopping patience (epochs)", "100"),
                             ("Filters", "4, 8, 4"), ("Dense units", "16, 8")):
            page.get_by_label(label, exact=True).fill(value)
        page.get_by_role("button", name="Start").click()
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)  # curves after epoch 1
        page.reload()
        page.get_by_test_id("stButton").get_by_role("button", name="Stop").wait_for(timeout=30_000)  # still running after reload
        page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(SCREENSHOTS / "training_running.png"), full_page=True)
        page.get_by_test_id("stButton").get_by_role("button", name="Stop").click()
        page.get_by_text("stopped on request").first.wait_for(timeout=30_000)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(SCREENSHOTS / "training_stopped.png"), full_page=True)
        assert page.locator('[data-testid="stException"]').count() == 0


def test_results_compare_and_report_download(server: str) -> None:
    """Compare the two prepared runs and download the report the button builds on click."""
    with _chromium_page(viewport={"width": 1400, "height": 2000}, accept_downloads=True) as page:
        page.goto(server)
        page.get_by_role("heading", name="Dataset browser").wait_for(timeout=30_000)
        page.get_by_role("link", name="Results").click()
        page.get_by_role("heading", name="Results").wait_for(timeout=30_000)
        _wait_for_run(page)
        page.get_by_test_id("stSelectbox").filter(has_text="Compare with").click()
        page.get_by_role("option", name="svm", exact=False).click()
        _wait_for_run(page)
        page.get_by_role("tab", name="Compare runs").click()
        page.wait_for_timeout(800)
        page.screenshot(path=str(SCREENSHOTS / "results_compared.png"), full_page=True)
        with page.expect_download(timeout=60_000) as download:
            page.get_by_role("button", name="Download report (HTML)").click()
        html = Path(download.value.path()).read_text()
        assert html.startswith("<!DOCTYPE html>") and "Runs compared" in html
        text = re.sub(r"<script.*?</script>", "", html, flags=re.S)  # plotly.js and figure data aside
        assert not re.search(r"(?<![\w.:/])/(tmp|home|root|work|usr|var)/", text), "an absolute path in the report"
        assert page.locator('[data-testid="stException"]').count() == 0
