"""Page speed on the default demo dataset: the issue's targets, measured with AppTest.

Targets (issue 4): first render of each page under 3 s (Results and Predict render whatever
runs the cache holds; with none they show how to make one) once the dataset is cached, widget
reruns under 0.5 s, clustering scores for all elements under 15 s the first time.

Run: ``python bench/bench_pages.py`` (uses $XANES_CACHE or cache/; builds the demo if absent).
Prints one JSON object. AppTest runs the scripts without a browser, so front-end drawing time
is not included; script time is what caching controls.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Callable

from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from xanes_core.analysis.clustering import cluster_all_elements  # noqa: E402
from xanes_core.data.demo import ensure_demo  # noqa: E402

APP = str(REPO / "app.py")
PAGES = {"dataset": None, "clustering": "pages/clustering.py", "training": "pages/training.py",
         "results": "pages/results.py", "predict": "pages/predict.py", "data_sources": "pages/data_sources.py"}


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return round(time.perf_counter() - start, 3)


def _open(page: str | None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120).run()
    if page:
        app.switch_page(page).run()
    if app.exception:
        raise RuntimeError(f"{page}: {app.exception[0].value}")
    return app


def main() -> None:
    results: dict[str, object] = {}
    results["demo_load_or_build_s"] = _timed(lambda: ensure_demo())
    dataset = ensure_demo()
    results["n_samples"] = dataset.n_samples
    results["clustering_all_elements_s"] = _timed(lambda: cluster_all_elements(dataset))

    results["cold_first_render_s"] = {page: _timed(lambda p=path: _open(p)) for page, path in PAGES.items()}
    results["cached_first_render_s"] = {page: _timed(lambda p=path: _open(p)) for page, path in PAGES.items()}

    app = _open(None)
    reruns = {
        "class_filter": lambda: app.multiselect(key="f_classes").select("topological").run(),
        "formula_filter": lambda: app.text_input(key="f_formula").input("Se").run(),
        "spectra_element": lambda: app.selectbox(key="spectra_element").set_value(
            app.selectbox(key="spectra_element").options[1].split(" ")[0]).run(),
        "spectra_limit": lambda: app.slider(key="spectra_limit").set_value(100).run(),
    }
    results["dataset_rerun_s"] = {name: _timed(action) for name, action in reruns.items()}

    app = _open(PAGES["clustering"])
    element = app.selectbox(key="cluster_element")
    other = element.options[1] if element.value == element.options[0] else element.options[0]
    results["clustering_rerun_s"] = {
        "new_element_first_time": _timed(lambda: app.selectbox(key="cluster_element").set_value(other).run()),
        "back_to_cached_element": _timed(lambda: app.selectbox(key="cluster_element").set_value(element.value).run()),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
