"""Result figures: counts behind every periodic-table cell, no-test-sample elements marked, units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xanes_core.data.elements import CHANNELS, N_CHANNELS
from xanes_core.learn.evaluation import evaluate_predictions
from xanes_core.learn.results import wilson_interval
from xanes_core.viz import results as result_figures
from xanes_core.viz.periodic_table import cell_index

HISTORY = [{"epoch": e, "loss": 0.7 - 0.1 * e, "val_loss": 0.72 - 0.08 * e, "accuracy": 0.5 + 0.1 * e,
            "val_accuracy": 0.5 + 0.05 * e, "val_balanced_accuracy": 0.55 + 0.05 * e} for e in (1, 2, 3)]


@pytest.fixture(scope="module")
def metrics() -> dict:
    """A test split of 60 samples over Fe and Bi only (every other element: no test samples)."""
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(20, int), np.zeros(40, int)]
    probabilities = np.clip(0.35 * labels + rng.uniform(0, 0.65, 60), 0, 1)
    presence = np.zeros((60, N_CHANNELS))
    presence[:, CHANNELS.index("Fe")] = 1
    presence[20:, CHANNELS.index("Bi")] = 1  # Bi only in trivial samples: topological recall undefined
    evaluation = evaluate_predictions(labels, probabilities, presence, rng.normal(size=(60, 5)),
                                      [f"s{i}" for i in range(60)])
    return evaluation.to_dict()


def _layer(fig, name: str, symbol: str):
    trace = next(t for t in fig.data if t.name == name)
    row, column = cell_index(symbol)
    return trace.z[row][column], trace.hovertext[row][column]


def test_periodic_tables_print_scores_with_their_n_and_intervals(metrics) -> None:
    figures = result_figures.metric_periodic_tables(metrics["per_element"])
    assert set(figures) == {(m, c) for m in ("recall", "precision", "f1") for c in ("topological", "trivial")}
    fe = metrics["per_element"]["Fe"]["topological"]
    recall = figures[("recall", "topological")]
    value, hover = _layer(recall, "recall", "Fe")  # 20 topological test materials: not faded
    assert value == pytest.approx(fe["recall"])
    assert f"of {fe['support']} topological found" in hover and f"of {fe['n_predicted']} predicted" in hover
    assert "95% interval" in hover
    fe_text = next(t for t in recall.data[-1].text if t.startswith("<b>Fe</b>"))
    assert f"{fe['recall']:.2f}" in fe_text and f"n={fe['support']}" in fe_text
    assert "no test samples" in _layer(recall, "no data", "O")[1]
    missing, hover = _layer(recall, "no data", "Bi")
    assert missing == 1.0 and "no topological test samples" in hover
    assert not np.isnan(_layer(figures[("recall", "trivial")], "recall", "Bi")[0])
    assert "threshold 0.50" in recall.layout.title.text


def test_wilson_interval_is_honest_for_small_samples() -> None:
    low, high = wilson_interval(2, 2)
    assert high == 1.0 and low < 0.35  # 2 of 2 is not "certainly 100 %"
    low, high = wilson_interval(150, 300)
    assert low == pytest.approx(0.443, abs=1e-3) and high == pytest.approx(0.557, abs=1e-3)
    assert wilson_interval(0, 0) is None


def test_confusion_matrix_labels_are_short_and_follow_the_class_list(metrics) -> None:
    fig = result_figures.confusion_matrix(metrics["confusion"], threshold=0.37)
    (tn, fp), (fn, tp) = metrics["confusion"]
    assert fig.data[0].text[0][0] == f"<b>{tp}</b><br>{tp / (tp + fn):.0%}"
    assert fig.data[0].text[1][1].startswith(f"<b>{tn}</b>")
    assert list(fig.data[0].y) == ["true<br>topological", "true<br>trivial"]
    assert "threshold 0.37" in fig.layout.xaxis.title.text
    assert max(len(line) for row in fig.data[0].text for cell in row for line in cell.split("<br>")) < 16


def test_curves_show_auc_chance_and_the_operating_point_with_legends_outside(metrics) -> None:
    marks = result_figures.operating_marks(metrics["test"], "threshold 0.50")
    roc = result_figures.roc_curves({"run A": metrics["curves"]}, points=[marks["roc"]])
    assert roc.data[0].name == "chance" and f"{metrics['curves']['roc']['auc']:.3f}" in roc.data[1].name
    assert "rate" in roc.layout.xaxis.title.text
    topological, trivial = metrics["test"]["topological"], metrics["test"]["trivial"]
    assert (roc.data[-1].x[0], roc.data[-1].y[0]) == pytest.approx((1 - trivial["recall"], topological["recall"]))
    pr = result_figures.pr_curves({"run A": metrics["curves"], "empty": None}, prevalence=1 / 3, points=[marks["pr"]])
    assert len(pr.data) == 3 and "average precision" in pr.data[1].name
    assert pr.data[-1].y[0] == pytest.approx(topological["precision"])
    for fig in (roc, pr):  # under the plot, where it cannot cover the low-rate corner
        assert fig.layout.legend.yref == "container" and fig.layout.legend.orientation == "h"


def test_projection_draws_boundary_and_both_classes(metrics) -> None:
    fig = result_figures.decision_projection(metrics["projection"], metrics["sample_ids"])
    names = [trace.name for trace in fig.data]
    assert names[-1].startswith("true topological") and names[-2].startswith("true trivial")  # minority on top
    trivial, topological = fig.data[-2], fig.data[-1]
    assert topological.marker.opacity > trivial.marker.opacity and topological.marker.size > trivial.marker.size
    assert any(name and name.startswith("threshold 0.50 in this plane") for name in names)
    assert "variance" in fig.layout.xaxis.title.text
    one_class = {**metrics["projection"], "boundary": None}
    assert len(result_figures.decision_projection(one_class).data) == 2


def test_history_and_bars_have_labelled_axes(metrics) -> None:
    loss = result_figures.history_curves(HISTORY, "loss")
    assert [t.name for t in loss.data] == ["training", "validation"] and loss.layout.xaxis.title.text == "Epoch"
    accuracy = result_figures.history_curves(HISTORY, "accuracy")
    assert len(accuracy.data) == 3 and "fraction" in accuracy.layout.yaxis.title.text
    bars = result_figures.class_metric_bars(metrics["test"])
    assert [t.name for t in bars.data] == ["topological", "trivial"]
    table = pd.DataFrame([{"run": "a", "model": "m", "balanced accuracy": 0.7, "ROC AUC": None,
                           **{f"{c} {m}": 0.5 for c in ("topological", "trivial") for m in ("recall", "precision", "f1")}}])
    assert result_figures.comparison_bars(table).data[0].name == "m · a"
