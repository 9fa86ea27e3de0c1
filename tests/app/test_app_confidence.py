"""Calibration, uncertainty and the three-class task on the pages: Results of an ensemble and of
a three-class run, Predict with an ensemble's interval, three-class runs kept off Predict, the
Training form's ensemble and task."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.helpers import APP, assert_clean
from xanes_core.learn.config import ModelConfig
from xanes_core.learn.training import Trainer, TrainingConfig

TINY = ModelConfig(filters=(4, 8, 4), dense_units=(16, 8), symmetry_units=8, head_units=8)


@pytest.fixture(scope="module")
def cache(demo_cache: Path, tmp_path_factory) -> Path:
    """The app tests' demo plus a binary ensemble of two tiny CNNs and a three-class CNN."""
    root = tmp_path_factory.mktemp("confidence-cache")
    (root / "datasets").mkdir()
    (root / "datasets" / "demo").symlink_to(demo_cache / "datasets" / "demo")
    dataset = str(root / "datasets" / "demo")
    for name, changes in (("ensemble", {"ensemble": 2}), ("three", {"task": "three-class"})):
        config = TrainingConfig(dataset=dataset, model="symmetry", epochs=2, augment=False, model_config=TINY, **changes)
        final = Trainer(config, out=root / "runs" / name).start().join()
        assert final.status == "completed", final.message
    return root


def _open(cache: Path, page: str, monkeypatch) -> AppTest:
    monkeypatch.setenv("XANES_CACHE", str(cache))
    return AppTest.from_file(APP, default_timeout=90).run().switch_page(page).run()


def _choose(page: AppTest, run: str) -> AppTest:
    box = page.selectbox(key="results_run")
    return box.select_index(next(i for i, o in enumerate(box.options) if o.startswith(f"{run} "))).run()


def test_an_ensemble_shows_calibration_before_and_after_and_accuracy_against_uncertainty(cache, monkeypatch):
    page = _choose(_open(cache, "pages/results.py", monkeypatch), "ensemble")
    assert_clean(page)
    metrics = json.loads((cache / "runs" / "ensemble" / "metrics.json").read_text())
    shown = {m.label: m.value for m in page.metric}
    assert shown["ECE after calibration"] == f"{metrics['ece']:.3f}"
    assert shown["ECE before calibration"] == f"{metrics['ece_uncalibrated']:.3f}"
    assert shown["Brier score"] == f"{metrics['brier']:.3f}"
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in page.get("plotly_chart")]
    assert any(t.startswith("Reliability of p(topological)") and "before calibration" in t for t in titles)
    assert any("know when it is unsure" in t for t in titles)
    assert any("temperature scaling fitted on the validation split" in c.value for c in page.caption)
    table = next(d.value for d in page.dataframe if "accuracy" in d.value.columns)
    assert table["materials"].sum() == metrics["test"]["n_samples"]
    # the paper's balanced cut of a calibrated run: the training share of topological materials
    assert page.radio(key="results_rule_ensemble").options[0] == f"paper ({metrics['threshold']:.2f})"


def test_a_three_class_run_shows_every_class(cache, monkeypatch):
    page = _choose(_open(cache, "pages/results.py", monkeypatch), "three")
    assert_clean(page)
    labels = [m.label for m in page.metric]
    assert labels[:2] == ["Balanced accuracy (3 classes)", "ROC AUC, topological vs trivial"]
    assert {"Recall, trivial", "Recall, topological insulator", "Recall, topological semimetal"} <= set(labels)
    assert any("There is no threshold" in c.value for c in page.caption)
    specs = [json.loads(c.proto.spec) for c in page.get("plotly_chart")]
    titles = [s["layout"]["title"]["text"] for s in specs]
    assert sum("per absorbing element" in t for t in titles) == 9  # 3 metrics x 3 classes
    confusion = next(s for s in specs if s["layout"]["title"]["text"].startswith("Confusion matrix"))
    assert len(confusion["data"][0]["x"]) == len(confusion["data"][0]["y"]) == 3
    assert sum(t.startswith("Reliability of p(") for t in titles) == 3
    assert any(t.startswith("ROC of each class") for t in titles)


def test_predict_offers_no_three_class_run_and_shows_an_ensemble_interval(cache, monkeypatch):
    page = _open(cache, "pages/predict.py", monkeypatch)
    assert_clean(page)
    options = page.selectbox(key="predict_run").options
    assert len(options) == 1 and options[0].startswith("ensemble")
    assert any("three-class run(s) are not listed" in c.value for c in page.caption)
    assert any(c.value.startswith("Interval ") and "lowest and highest of the run's CNNs" in c.value
               for c in page.caption)


def test_the_training_form_starts_an_ensemble_of_the_chosen_task(cache, monkeypatch):
    page = _open(cache, "pages/training.py", monkeypatch)
    assert_clean(page)
    assert page.number_input(key="train_ensemble").value == 1
    assert page.selectbox(key="train_task").options == ["topological vs trivial",
                                                        "trivial / topological insulator / semimetal"]
