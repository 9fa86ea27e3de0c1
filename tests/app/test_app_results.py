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
from xanes_core.learn import operating_point, runs
from xanes_core.learn.run_settings import read_settings, update_settings
from xanes_core.learn.config import ModelConfig
from xanes_core.learn.training import Trainer, TrainingConfig

TINY = ModelConfig(filters=(4, 8, 4), dense_units=(16, 8), symmetry_units=8, head_units=8)
N_TABLES = 6  # recall, precision, F1 x topological, trivial


@pytest.fixture(scope="module")
def trained(demo_cache: Path, tmp_path_factory) -> Path:
    """A cache with the demo dataset, the no-spectra baseline, a 2-epoch symmetry CNN run and an SVM run (newest)."""
    root = tmp_path_factory.mktemp("results-cache")
    dataset = root / "datasets" / "demo"
    shutil.copytree(demo_cache / "datasets" / "demo", dataset)
    for model in ("elements", "symmetry", "svm"):
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
    return box.select_index(next(i for i, o in enumerate(box.options) if o == run or o.startswith(f"{run} "))).run()


def test_cnn_run_shows_every_section(page: AppTest) -> None:
    choose(page, "results_run", "symmetry")
    assert_clean(page)
    assert page.title[0].value == "Results"
    labels = [m.label for m in page.metric]
    assert labels[:5] == ["Balanced accuracy", "Topological recall", "Topological precision", "Trivial recall",
                          "ROC AUC"]
    assert any("Bayes reference" in c.value for c in page.caption)
    without = next(m for m in page.metric if m.label == "Without spectra")  # the key comparison, not in a tab
    baseline = runs.read_run(Path(page.selectbox(key="results_run").value).parent / "elements").metrics
    assert without.value == f"{baseline['test']['balanced_accuracy']:.3f}"
    assert "vs no spectra" in page.metric[0].proto.delta
    # operating point, class bars, confusion, 6 periodic tables, ROC, PR, reliability, projection, loss, accuracy
    assert len(page.get("plotly_chart")) == 1 + 2 + N_TABLES + 2 + 1 + 1 + 2
    buttons = [b.proto.label for b in page.get("download_button")]
    assert "Download report (HTML)" in buttons and "Download figure pack (PNG + SVG + CSV)" in buttons


def test_baseline_run_has_no_history_but_every_other_section(page: AppTest) -> None:
    choose(page, "results_run", "svm")
    assert_clean(page)
    assert len(page.get("plotly_chart")) == 1 + 2 + N_TABLES + 2 + 1 + 1
    assert any("fitted in one step" in i.value for i in page.info)
    assert any("svm baseline: attribution over energy needs a CNN run" in i.value for i in page.info)


def test_two_runs_side_by_side(page: AppTest) -> None:
    choose(page, "results_run", "symmetry")
    choose(page, "results_compare", "svm")
    assert_clean(page)
    table = next(d.value for d in page.dataframe if "ROC AUC" in d.value.columns)
    assert list(table["run"]) == ["symmetry", "svm"]
    assert len(page.get("plotly_chart")) == 1 + 2 + N_TABLES + 2 + 1 + 1 + 2 + 1  # + comparison bars


def test_operating_point_is_chosen_on_validation_and_drives_every_number(page: AppTest) -> None:
    """The candidates come from the validation scores the trainer saved; picking one changes the
    test metrics to exactly those at that threshold, and saving it makes it the run's own."""
    choose(page, "results_run", "symmetry")
    run_dir = Path(page.selectbox(key="results_run").value)
    metrics = runs.read_run(run_dir).metrics
    assert operating_point.has_scores(metrics)  # written by the real trainer
    candidates = {c.rule: c.threshold for c in operating_point.choices(metrics)}
    radio = page.radio(key="results_rule_symmetry")
    assert radio.options[:3] == ["paper (0.50)", f"best balanced accuracy ({candidates['balanced_accuracy']:.2f})",
                                 f"best topological F1 ({candidates['topological_f1']:.2f})"]
    page = radio.set_value("balanced_accuracy").run()
    expected = operating_point.at_threshold(metrics, candidates["balanced_accuracy"])["test"]
    shown = {m.label: m.value for m in page.metric}
    assert shown["Topological recall"] == f"{expected['topological']['recall']:.3f}"
    assert shown["Balanced accuracy"] == f"{expected['balanced_accuracy']:.3f}"
    assert any("threshold" in c.value and "validation" in c.value for c in page.caption)
    page.button(key="results_save_threshold").click().run()
    assert_clean(page)
    saved = read_settings(run_dir)
    assert (saved.threshold, saved.threshold_rule) == (candidates["balanced_accuracy"], "balanced_accuracy")
    update_settings(run_dir, threshold=0.5, threshold_rule="paper")  # leave the module's run as it was


def test_no_completed_run_says_so(demo_cache: Path, tmp_path: Path, monkeypatch) -> None:
    shutil.copytree(demo_cache / "datasets" / "demo", tmp_path / "datasets" / "demo")
    monkeypatch.setenv("XANES_CACHE", str(tmp_path))
    page = AppTest.from_file(APP, default_timeout=60).run().switch_page("pages/results.py").run()
    assert_clean(page)
    assert "No completed run" in page.info[0].value


@pytest.mark.parametrize(("name", "damage"), [(runs.HISTORY, "{not json"), (runs.METRICS, "[1, 2]"),
                                             (runs.METRICS, '{"test": 0.9')])
def test_damaged_run_is_an_error_message(trained: Path, monkeypatch, name: str, damage: str) -> None:
    damaged = trained / "runs" / "damaged"
    shutil.copytree(trained / "runs" / "symmetry", damaged)
    (damaged / name).write_text(damage)
    monkeypatch.setenv("XANES_CACHE", str(trained))
    try:
        page = AppTest.from_file(APP, default_timeout=60).run().switch_page("pages/results.py").run()
        choose(page, "results_run", "damaged")
        assert not page.exception, [e.value for e in page.exception]
        assert str(damaged / name) in page.error[0].value
    finally:
        shutil.rmtree(damaged)


def test_a_run_whose_dataset_was_rebuilt_shows_its_own_provenance(changed_cache: Path, monkeypatch) -> None:
    monkeypatch.setenv("XANES_CACHE", str(changed_cache))
    page = AppTest.from_file(APP, default_timeout=60).run().switch_page("pages/results.py").run()
    assert not page.exception and not page.error
    assert "dataset changed since training" in page.selectbox(key="results_run").options[0]
    assert any("not the version run before-rebuild was trained on" in w.value for w in page.warning)
    provenance = next(d.value for d in page.dataframe if list(d.value.columns) == ["field", "value"])
    seed = provenance.loc[provenance["field"] == "seed", "value"].tolist()
    assert seed == ["1"]  # the data it learned from, not the seed-2 rebuild now in the folder


def test_spectral_indicators_are_computed_on_request_then_read(page: AppTest, trained: Path) -> None:
    """Without attribution data the tab says how to make it; its button computes and caches it in
    the run folder; then the periodic table, one element's figure and the summary table show."""
    cached = trained / "runs" / "symmetry" / "attribution-test.npz"
    cached.unlink(missing_ok=True)
    try:
        choose(page, "results_run", "symmetry")
        assert any("has no attribution data for its test split yet" in i.value for i in page.info)
        charts = len(page.get("plotly_chart"))
        page.button(key="results_attribute").click().run()
        assert_clean(page)
        assert cached.is_file()
        assert len(page.get("plotly_chart")) == charts + 2  # the periodic table and one element
        summary = next(d.value for d in page.dataframe if "top ranges (eV)" in d.value.columns)
        assert "informative share" in summary.columns  # the demo: its ground truth is compared
        box = page.selectbox(key="results_attribution_element")
        assert box.options[0].startswith("O ")  # the most frequent element first
        box.select_index(1).run()
        assert_clean(page)
    finally:
        cached.unlink(missing_ok=True)
