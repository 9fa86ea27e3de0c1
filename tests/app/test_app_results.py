"""Results page: every section for a CNN run and a baseline run, comparison, empty and broken states.

Runs are trained once per module (tiny CNN, SVM) into a cache of their own, directly with the
Trainer: the page only reads run folders, and the form-to-Results path is covered by the
Training page tests.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.helpers import APP, assert_clean
from xanes_core.learn import runs
from xanes_core.learn.config import ModelConfig
from xanes_core.learn.training import Trainer, TrainingConfig

TINY = ModelConfig(filters=(4, 8, 4), dense_units=(16, 8), symmetry_units=8, head_units=8)
N_TABLES = 6  # recall, precision, F1 x topological, trivial


@pytest.fixture(scope="module")
def trained(demo_cache: Path, tmp_path_factory) -> Path:
    """A cache with the demo dataset, a 2-epoch symmetry CNN run and an SVM run (newest)."""
    root = tmp_path_factory.mktemp("results-cache")
    dataset = root / "datasets" / "demo"
    shutil.copytree(demo_cache / "datasets" / "demo", dataset)
    for model in ("symmetry", "svm"):
        config = TrainingConfig(dataset=str(dataset), model=model, epochs=2, batch_size=64, model_config=TINY)
        trainer = Trainer(config, out=root / "runs" / model).start()
        assert trainer.join(timeout=120).status == "completed", trainer.state.snapshot().message
    return root


@pytest.fixture
def page(trained: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("XANES_CACHE", str(trained))
    app = AppTest.from_file(APP, default_timeout=60).run()
    return app.switch_page("pages/results.py").run()


def choose(page: AppTest, key: str, run: str) -> AppTest:
    """Select the run whose folder is named ``run`` (options show the formatted labels)."""
    box = page.selectbox(key=key)
    return box.select_index(next(i for i, o in enumerate(box.options) if o.startswith(f"{run} "))).run()


def test_cnn_run_shows_every_section(page: AppTest) -> None:
    choose(page, "results_run", "symmetry")
    assert_clean(page)
    assert page.title[0].value == "Results"
    labels = [m.label for m in page.metric]
    assert labels[:4] == ["Balanced accuracy", "Topological recall", "Trivial recall", "ROC AUC"]
    assert "Demo generator's reference" in labels
    # class bars, confusion, 6 periodic tables, ROC, PR, projection, loss, accuracy
    assert len(page.get("plotly_chart")) == 2 + N_TABLES + 2 + 1 + 2
    assert page.get("download_button")  # CSVs and the report
    assert any(b.proto.label == "Download report (HTML)" for b in page.get("download_button"))


def test_baseline_run_has_no_history_but_every_other_section(page: AppTest) -> None:
    choose(page, "results_run", "svm")
    assert_clean(page)
    assert len(page.get("plotly_chart")) == 2 + N_TABLES + 2 + 1
    assert any("fitted in one step" in i.value for i in page.info)


def test_two_runs_side_by_side(page: AppTest) -> None:
    choose(page, "results_run", "symmetry")
    choose(page, "results_compare", "svm")
    assert_clean(page)
    table = next(d.value for d in page.dataframe if "ROC AUC" in d.value.columns)
    assert list(table["run"]) == ["symmetry", "svm"]
    assert len(page.get("plotly_chart")) == 2 + N_TABLES + 2 + 1 + 2 + 1  # + comparison bars


def test_no_completed_run_says_so(demo_cache: Path, tmp_path: Path, monkeypatch) -> None:
    shutil.copytree(demo_cache / "datasets" / "demo", tmp_path / "datasets" / "demo")
    monkeypatch.setenv("XANES_CACHE", str(tmp_path))
    page = AppTest.from_file(APP, default_timeout=60).run().switch_page("pages/results.py").run()
    assert_clean(page)
    assert "No completed run" in page.info[0].value


def test_damaged_run_is_an_error_message(trained: Path, monkeypatch) -> None:
    damaged = trained / "runs" / "damaged"
    shutil.copytree(trained / "runs" / "symmetry", damaged)
    (damaged / runs.HISTORY).write_text("{not json")
    monkeypatch.setenv("XANES_CACHE", str(trained))
    try:
        page = AppTest.from_file(APP, default_timeout=60).run().switch_page("pages/results.py").run()
        choose(page, "results_run", "damaged")
        assert not page.exception
        assert "history.json" in page.error[0].value
    finally:
        shutil.rmtree(damaged)
