"""Calibration figures: reliability diagrams with their counts, accuracy against uncertainty,
an ensemble's history, three-class result figures."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from xanes_core.data.classes import TASK_CLASSES
from xanes_core.learn.calibration import expected_calibration_error
from xanes_core.viz import calibration as figures
from xanes_core.viz import results as result_figures


def _outcomes(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    truth = expit(rng.normal(-1.5, 1.5, n))
    labels = (rng.random(n) < truth).astype(int)
    return labels, truth, expit(np.log(truth / (1 - truth)) + 1.4)  # the second over-estimates


def test_reliability_diagram_plots_bins_with_counts_and_both_eces():
    labels, calibrated, raw = _outcomes()
    fig = figures.reliability_diagram(labels, calibrated, raw)
    names = [trace.name for trace in fig.data]
    assert names == ["perfect calibration", "before calibration", "after calibration"]
    assert f"ECE {expected_calibration_error(labels, calibrated):.3f}" in fig.layout.title.text
    assert f"before calibration {expected_calibration_error(labels, raw):.3f}" in fig.layout.title.text
    table = figures.reliability_table(labels, calibrated, raw, 1)
    assert table.groupby("curve")["n"].sum().tolist() == [3000, 3000]
    after = table[table["curve"] == "after calibration"]
    assert (after["interval_low"] <= after["frequency"]).all() and (after["frequency"] <= after["interval_high"]).all()
    before = table[table["curve"] == "before calibration"]
    assert (before["mean_probability"] - before["frequency"]).mean() > 0.05  # over-confident about topological


def test_accuracy_by_uncertainty_groups_every_material_once():
    rng = np.random.default_rng(1)
    uncertainty = rng.random(1000)
    labels = rng.integers(0, 2, 1000)
    wrong = rng.random(1000) < uncertainty  # errors grow with uncertainty
    predicted = np.where(wrong, 1 - labels, labels)
    table = figures.uncertainty_table(labels, predicted, uncertainty)
    assert table["materials"].sum() == 1000 and len(table) == 5
    assert table["accuracy"].is_monotonic_decreasing
    assert (table["uncertainty to"].to_numpy()[:-1] <= table["uncertainty from"].to_numpy()[1:]).all()
    fig = figures.accuracy_by_uncertainty(table, 5)
    assert list(fig.data[0].y) == pytest.approx(table["accuracy"].tolist())


def test_an_ensemble_history_is_drawn_one_cnn_after_another():
    history = [{"member": m, "epoch": e, "loss": 1.0 / e, "val_loss": 1.1 / e} for m in (1, 2) for e in (1, 2, 3)]
    fig = result_figures.history_curves(history, "loss")
    assert list(fig.data[0].x) == [1, 2, 3, None, 4, 5, 6]
    assert list(fig.data[0].y)[3] is None and "one after another" in fig.layout.xaxis.title.text
    single = result_figures.history_curves(history[:3], "loss")
    assert list(single.data[0].x) == [1, 2, 3]


def test_three_class_result_figures_are_drawn_per_class():
    classes = TASK_CLASSES["three-class"]
    confusion = [[50, 3, 2], [4, 10, 6], [1, 5, 9]]
    fig = result_figures.confusion_matrix(confusion, None, classes)
    assert np.asarray(fig.data[0].z).shape == (3, 3) and "most likely class" in fig.layout.xaxis.title.text
    metrics = {name: {"recall": 0.5, "precision": 0.4, "f1": 0.44, "support": 10, "n_predicted": 12}
               for name in classes}
    bars = result_figures.class_metric_bars(metrics, classes=classes)
    assert [trace.name for trace in bars.data] == list(classes)
    per_element = {"Cu": {**metrics, "n_samples": 30, "balanced_accuracy": 0.5}}
    tables = result_figures.metric_periodic_tables(per_element, None, classes)
    assert len(tables) == 9 and ("recall", "topological semimetal") in tables
