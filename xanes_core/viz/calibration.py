"""Figures of how far a run's probabilities can be believed (Results page, report, figure pack).

- :func:`reliability_diagram`: predicted probability against the observed frequency of the
  class on the test split, before and after calibration, with the diagonal of perfect
  calibration, each point's 95 % Wilson interval and count;
- :func:`accuracy_by_uncertainty`: accuracy of an ensemble's decisions in groups of test
  materials of rising uncertainty (the members' spread): a model that knows when it is unsure
  is right more often where its members agree.

Both read the per-material scores a run keeps in metrics.json
(:mod:`xanes_core.learn.evaluation`), so no model is loaded.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from xanes_core.learn.calibration import expected_calibration_error, reliability
from xanes_core.learn.results import wilson_interval
from xanes_core.viz.style import base_layout, legend_below

_BEFORE, _AFTER = "#a6acaf", "#1f618d"


def _points(labels: np.ndarray, probabilities: np.ndarray, column: int) -> pd.DataFrame:
    bins = pd.DataFrame(reliability(labels, probabilities)[column]["bins"])
    intervals = [wilson_interval(int(hits), int(n)) for hits, n in zip(bins["hits"], bins["n"])]
    bins["interval_low"] = [low for low, _ in intervals]
    bins["interval_high"] = [high for _, high in intervals]
    return bins


def reliability_table(labels: np.ndarray, calibrated: np.ndarray, uncalibrated: np.ndarray | None,
                      column: int) -> pd.DataFrame:
    """One row per non-empty bin and curve: the figure's data (``column``: the class)."""
    curves = {"calibrated": calibrated} if uncalibrated is None else {"before calibration": uncalibrated,
                                                                       "after calibration": calibrated}
    return pd.concat([_points(labels, p, column).assign(curve=name) for name, p in curves.items()], ignore_index=True)


def reliability_diagram(labels: Sequence[int], calibrated: Sequence, uncalibrated: Sequence | None = None, *,
                        column: int = 1, class_name: str = "topological") -> go.Figure:
    """Observed frequency of ``class_name`` against its predicted probability (15 bins), after
    calibration and, when given, before; the title carries both ECEs."""
    labels = np.asarray(labels, dtype=int)
    calibrated = np.asarray(calibrated, dtype=float)
    table = reliability_table(labels, calibrated, None if uncalibrated is None else np.asarray(uncalibrated, float),
                              column)
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect calibration",
                               line=dict(color="#7f8c8d", dash="dash")))
    for name, points in table.groupby("curve", sort=False):
        colour = _AFTER if name != "before calibration" else _BEFORE
        fig.add_trace(go.Scatter(
            x=points["mean_probability"], y=points["frequency"], mode="lines+markers", name=name,
            line=dict(color=colour, width=2.5), marker=dict(size=np.clip(np.sqrt(points["n"]), 6, 18)),
            error_y=dict(type="data", symmetric=False, array=points["interval_high"] - points["frequency"],
                         arrayminus=points["frequency"] - points["interval_low"], color=colour, thickness=1),
            customdata=points[["n", "hits", "low", "high"]],
            hovertemplate=("p %{customdata[2]:.2f}-%{customdata[3]:.2f}: %{customdata[1]} of %{customdata[0]} "
                           f"are {class_name} (%{{y:.1%}}), mean p %{{x:.1%}}<extra>{name}</extra>")))
    after = expected_calibration_error(labels, calibrated)
    title = f"Reliability of p({class_name}) on the test split: ECE {after:.3f}"
    if uncalibrated is not None:
        title += f" (before calibration {expected_calibration_error(labels, np.asarray(uncalibrated, float)):.3f})"
    fig.update_xaxes(title=f"Predicted p({class_name}) (mean of the bin)", range=[0, 1])
    fig.update_yaxes(title=f"Observed fraction {class_name} (95% interval)", range=[0, 1.02])
    return legend_below(base_layout(fig, title, 480))


def uncertainty_table(labels: np.ndarray, predicted: np.ndarray, uncertainty: np.ndarray,
                      parts: int = 5) -> pd.DataFrame:
    """Test materials in ``parts`` equal groups by rising uncertainty: range, count, accuracy of
    the decisions and its 95 % interval."""
    labels, predicted = np.asarray(labels, int), np.asarray(predicted, int)
    uncertainty = np.asarray(uncertainty, float)
    rows = []
    for chunk in np.array_split(np.argsort(uncertainty, kind="stable"), parts):
        if not chunk.size:
            continue
        correct = int((labels[chunk] == predicted[chunk]).sum())
        low, high = wilson_interval(correct, chunk.size)
        rows.append({"uncertainty from": float(uncertainty[chunk].min()), "uncertainty to": float(uncertainty[chunk].max()),
                     "materials": int(chunk.size), "correct": correct, "accuracy": correct / chunk.size,
                     "interval low": low, "interval high": high})
    return pd.DataFrame(rows)


def accuracy_by_uncertainty(table: pd.DataFrame, n_members: int) -> go.Figure:
    """Bars of :func:`uncertainty_table`: accuracy per group, least uncertain first."""
    names = [f"{row['uncertainty from']:.3f}-{row['uncertainty to']:.3f}" for _, row in table.iterrows()]
    fig = go.Figure(go.Bar(
        x=names, y=table["accuracy"], marker_color=_AFTER, texttemplate="%{y:.2f}", textposition="outside",
        error_y=dict(type="data", symmetric=False, array=table["interval high"] - table["accuracy"],
                     arrayminus=table["accuracy"] - table["interval low"], color="#17202a", thickness=1),
        customdata=table[["materials", "correct"]],
        hovertemplate="spread %{x}: %{customdata[1]} of %{customdata[0]} correct<extra></extra>"))
    fig.update_xaxes(title=f"Uncertainty: standard deviation of the {n_members} CNNs' p (fifths of the test split)")
    fig.update_yaxes(title="Accuracy of the decisions (95% interval)", range=[0, 1.1])
    return base_layout(fig, "Does the ensemble know when it is unsure? Accuracy against uncertainty", 420)
