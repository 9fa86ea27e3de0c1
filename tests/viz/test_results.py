"""Result figures: counts behind every periodic-table cell, no-test-sample elements marked, units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xanes_core.data.elements import CHANNELS, N_CHANNELS, table_position
from xanes_core.learn.evaluation import evaluate_predictions
from xanes_core.viz import results as result_figures

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


def _cell(fig, trace: int, symbol: str):
    pos = table_position(symbol)
    row = pos.row + 1 if pos.row >= 8 else pos.row
    return fig.data[trace].z[row - 1][pos.column - 1], fig.data[trace].hovertext[row - 1][pos.column - 1]


def test_periodic_tables_carry_counts_and_mark_missing(metrics) -> None:
    figures = result_figures.metric_periodic_tables(metrics["per_element"])
    assert set(figures) == {(m, c) for m in ("recall", "precision", "f1") for c in ("topological", "trivial")}
    fe = metrics["per_element"]["Fe"]["topological"]
    value, hover = _cell(figures[("recall", "topological")], 1, "Fe")
    assert value == pytest.approx(fe["recall"])
    assert f"of {fe['support']} topological found" in hover and f"of {fe['n_predicted']} predicted" in hover
    assert "no test samples" in _cell(figures[("recall", "topological")], 0, "O")[1]
    missing, hover = _cell(figures[("recall", "topological")], 0, "Bi")
    assert missing == 1.0 and "no topological test samples" in hover
    assert not np.isnan(_cell(figures[("recall", "trivial")], 1, "Bi")[0])


def test_confusion_matrix_counts_topological_first(metrics) -> None:
    fig = result_figures.confusion_matrix(metrics["confusion"])
    (tn, fp), (fn, tp) = metrics["confusion"]
    assert fig.data[0].text[0][0].startswith(f"{tp}<br>") and fig.data[0].text[1][1].startswith(f"{tn}<br>")
    assert list(fig.data[0].y) == ["true topological", "true trivial"]


def test_curves_show_auc_and_chance(metrics) -> None:
    roc = result_figures.roc_curves({"run A": metrics["curves"]})
    assert roc.data[0].name == "chance" and f"{metrics['curves']['roc']['auc']:.3f}" in roc.data[1].name
    assert "rate" in roc.layout.xaxis.title.text
    pr = result_figures.pr_curves({"run A": metrics["curves"], "empty": None}, prevalence=1 / 3)
    assert len(pr.data) == 2 and "average precision" in pr.data[1].name


def test_projection_draws_boundary_and_both_classes(metrics) -> None:
    fig = result_figures.decision_projection(metrics["projection"], metrics["sample_ids"])
    names = [trace.name for trace in fig.data]
    assert "true topological" in names and "true trivial" in names
    assert any(name and name.startswith("decision boundary") for name in names)
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
