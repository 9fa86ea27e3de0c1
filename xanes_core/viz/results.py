"""Plotly figures of a run's results (paper Fig. 3, Fig. S4), built from metrics.json / history.json.

Inputs are the plain JSON structures written by :mod:`xanes_core.learn.evaluation` and the trainer, so
the Results page, the HTML report and a notebook draw the same figures from a run folder
without loading the model. Class colours come from :mod:`xanes_core.viz.style`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from xanes_core.data.elements import CHANNELS
from xanes_core.learn.evaluation import CLASSES, THRESHOLD
from xanes_core.learn.results import METRIC_NAMES, METRICS, wilson_interval
from xanes_core.viz.periodic_table import Scale, periodic_table, truncated
from xanes_core.viz.style import CLASS_COLORS, base_layout, legend_below

_HISTORY_LABELS = {"loss": "Loss (weighted binary cross-entropy)", "accuracy": "Accuracy (fraction correct)"}
_SERIES_COLORS = ("#1f618d", "#ca6f1e", "#7d3c98", "#229954")


def history_curves(history: Sequence[Mapping[str, Any]], quantity: str, *, title: str | None = None) -> go.Figure:
    """Paper Fig. S4d-e: training and validation ``loss`` or ``accuracy`` per epoch.

    The accuracy plot also shows the validation balanced accuracy, the score the class
    weights optimize (plain accuracy is dominated by the trivial majority). An ensemble's CNNs
    (entries with a ``member``) are drawn one after another, each line broken between them.
    """
    series = [(quantity, "training"), (f"val_{quantity}", "validation")]
    if quantity == "accuracy":
        series.append(("val_balanced_accuracy", "validation, balanced"))
    fig = go.Figure()
    epochs, history = _epoch_axis(history)
    for (key, name), colour in zip(series, _SERIES_COLORS):
        values = [None if entry is None else entry.get(key) for entry in history]
        if any(v is not None for v in values):
            fig.add_trace(go.Scatter(x=epochs, y=values, mode="lines+markers", name=name,
                                     line=dict(color=colour, dash="dot" if "balanced" in key else "solid")))
    members = any(entry is None for entry in history)
    fig.update_xaxes(title="Epoch (the ensemble's CNNs drawn one after another)" if members else "Epoch",
                     dtick=1 if len(epochs) <= 20 else None)
    fig.update_yaxes(title=_HISTORY_LABELS[quantity])
    return legend_below(base_layout(fig, title or f"{quantity.capitalize()} per epoch", 400))


def _epoch_axis(history: Sequence[Mapping[str, Any]]) -> tuple[list[Any], list[Mapping[str, Any] | None]]:
    """x values and entries: each entry's epoch; for an ensemble, epochs counted on across its
    CNNs with a gap (None) where one CNN ends and the next begins."""
    if not any("member" in entry for entry in history):
        return [entry.get("epoch") for entry in history], list(history)
    x: list[Any] = []
    entries: list[Mapping[str, Any] | None] = []
    for entry in history:
        if entries and entries[-1] is not None and entry.get("member") != entries[-1].get("member"):
            x.append(None)
            entries.append(None)
        x.append(sum(item is not None for item in entries) + 1)
        entries.append(entry)
    return x, entries


def class_metric_bars(test: Mapping[str, Any], *, title: str = "Test metrics per class",
                      classes: Mapping[str, int] = CLASSES) -> go.Figure:
    """Paper Fig. 3e: recall, precision and F1 of each class (one against the rest) as grouped
    bars (values printed); ``classes``: the run's class names and numbers."""
    fig = go.Figure([
        go.Bar(x=[METRIC_NAMES[m] for m in METRICS], y=[test[name][m] for m in METRICS], name=name,
               marker_color=CLASS_COLORS[label], texttemplate="%{y:.2f}", textposition="outside",
               textfont=dict(size=13))
        for name, label in classes.items()
    ])
    fig.update_layout(barmode="group")
    fig.update_yaxes(title="Score (fraction)", range=[0, 1.12])
    return legend_below(base_layout(fig, title, 400))


def _element_hover(symbol: str, values: Mapping[str, Any] | None, name: str) -> str:
    """The counts behind an element's recall / precision / F1 for one class, with 95 % intervals."""
    if values is None:
        return f"<b>{symbol}</b><br>no test samples"
    metrics = values[name]
    support, predicted = metrics["support"], metrics["n_predicted"]
    hits = round((metrics["recall"] or 0.0) * support)
    lines = [f"<b>{symbol}</b> · {values['n_samples']} test samples"]
    lines.append(f"recall: {hits} of {support} {name} found{_interval(hits, support)}" if support
                 else f"recall: no {name} test samples")
    lines.append(f"precision: {hits} of {predicted} predicted {name} correct{_interval(hits, predicted)}"
                 if predicted else f"precision: none predicted {name}")
    lines.append("F1: " + (f"{metrics['f1']:.2f}" if metrics["f1"] is not None else "undefined"))
    return "<br>".join(lines)


def _interval(successes: int, trials: int) -> str:
    low, high = wilson_interval(successes, trials)
    return f" (95% interval {low:.2f}-{high:.2f})"


_SUPPORT = {"recall": "support", "precision": "n_predicted", "f1": "support"}
_SCALES = {1: "OrRd", 0: "PuBu", 2: "BuPu"}  # colour scale of each class's periodic tables


def cut_text(threshold: float | None) -> str:
    """How a run decides, for titles: its threshold, or a three-class run's most likely class."""
    return "most likely class" if threshold is None else f"threshold {threshold:.2f}"


def metric_periodic_tables(per_element: Mapping[str, Mapping[str, Any]], threshold: float | None = THRESHOLD,
                           classes: Mapping[str, int] = CLASSES) -> dict[tuple[str, str], go.Figure]:
    """Paper Fig. 3a-c (topological) and S4a-c (trivial): (metric, class) -> periodic table.

    Each cell prints the score and the number of test materials behind it (recall and F1: the
    class's materials containing the element; precision: those predicted as the class); cells
    resting on fewer than ten are pale, and the hover gives the counts and a 95 % Wilson
    interval. Grey cells: no test sample contains the element, or the metric is undefined for it.
    The colour scale spans the data rather than 0-1.
    """
    figures = {}
    for name, label in classes.items():
        hover = {symbol: _element_hover(symbol, per_element.get(symbol), name) for symbol in CHANNELS}
        for metric in METRICS:
            values = {symbol: (np.nan if v[name][metric] is None else float(v[name][metric]))
                      for symbol, v in per_element.items()}
            support = {symbol: int(v[name][_SUPPORT[metric]]) for symbol, v in per_element.items()}
            figures[(metric, name)] = periodic_table(
                values, title=f"{METRIC_NAMES[metric]} of the {name} class per absorbing element "
                              f"(test split, {cut_text(threshold)})",
                colorbar_title=METRIC_NAMES[metric].lower(), hover=hover, support=support,
                scale=Scale(colorscale=truncated(_SCALES[label])))
    return figures


def confusion_matrix(confusion: Sequence[Sequence[int]], threshold: float | None = THRESHOLD,
                     classes: Mapping[str, int] = CLASSES) -> go.Figure:
    """Counts of true class (rows) against predicted class (columns); each cell prints its count
    and its share of the row on two short lines, so the label fits the cell at any width."""
    order = list(classes.values())  # the class list drives rows and columns (topological first)
    counts = np.asarray(confusion, dtype=float)[np.ix_(order, order)]
    names = [name.replace(" ", "<br>", 1) if len(classes) > 2 else name for name in classes]
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    text = [[f"<b>{int(c):,}</b><br>{s:.0%}" for c, s in zip(row, srow)] for row, srow in zip(counts, shares)]
    fig = go.Figure(go.Heatmap(z=shares, x=[f"predicted<br>{n}" for n in names], y=[f"true<br>{n}" for n in names],
                               text=text, texttemplate="%{text}", textfont=dict(size=16), colorscale="Blues",
                               zmin=0, zmax=1, colorbar=dict(title=dict(text="share of row", side="right"),
                                                             tickformat=".0%", thickness=14),
                               hovertemplate="%{y}, %{x}: %{z:.1%} of the row<extra></extra>"))
    fig.update_yaxes(autorange="reversed", title="True class")
    fig.update_xaxes(title=f"Predicted class ({cut_text(threshold)})", side="bottom", tickangle=0)
    return base_layout(fig, "Confusion matrix (test split)", 400)


def _curve_figure(traces: list[go.Scatter], title: str, x_title: str, y_title: str) -> go.Figure:
    fig = go.Figure(traces)
    fig.update_xaxes(title=x_title, range=[0, 1], constrain="domain")
    fig.update_yaxes(title=y_title, range=[0, 1.02])
    return legend_below(base_layout(fig, title, 480), rows=2)


def _marks(points: Sequence[tuple[str, float, float]]) -> list[go.Scatter]:
    """Operating points on a curve: one marker each, named in the legend."""
    return [go.Scatter(x=[x], y=[y], mode="markers", name=name,
                       marker=dict(symbol=symbol, size=13, color="#17202a", line=dict(width=1.5, color="white")))
            for (name, x, y), symbol in zip(points, ("circle", "diamond", "square", "cross"))]


def roc_curves(curves: Mapping[str, Mapping[str, Any] | None], *, title: str = "ROC curve (test split)",
               points: Sequence[tuple[str, float, float]] = ()) -> go.Figure:
    """ROC of one or more runs (``name -> curves`` of metrics.json) with the chance diagonal;
    ``points``: (label, false-positive rate, true-positive rate) of operating points to mark."""
    traces = [go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance",
                         line=dict(color="#999", dash="dash"))]
    for (name, run_curves), colour in zip(curves.items(), _SERIES_COLORS):
        roc = (run_curves or {}).get("roc")
        if roc:
            traces.append(go.Scatter(x=roc["fpr"], y=roc["tpr"], mode="lines", name=f"{name} (AUC {roc['auc']:.3f})",
                                     line=dict(color=colour, shape="hv", width=2.5)))
    return _curve_figure(traces + _marks(points), title, "False-positive rate (trivial called topological)",
                         "True-positive rate (topological recall)")


def pr_curves(curves: Mapping[str, Mapping[str, Any] | None], prevalence: float | None = None, *,
              title: str = "Precision-recall curve, topological class (test split)",
              points: Sequence[tuple[str, float, float]] = ()) -> go.Figure:
    """Precision-recall of the topological class; ``prevalence`` draws the chance level,
    ``points``: (label, recall, precision) of operating points to mark."""
    traces = []
    if prevalence is not None:
        traces.append(go.Scatter(x=[0, 1], y=[prevalence, prevalence], mode="lines",
                                 name=f"chance ({prevalence:.2f})", line=dict(color="#999", dash="dash")))
    for (name, run_curves), colour in zip(curves.items(), _SERIES_COLORS):
        pr = (run_curves or {}).get("pr")
        if pr:
            traces.append(go.Scatter(x=pr["recall"], y=pr["precision"], mode="lines",
                                     line=dict(color=colour, shape="hv", width=2.5),
                                     name=f"{name} (average precision {pr['auc']:.3f})"))
    return _curve_figure(traces + _marks(points), title, "Recall (topological)", "Precision (topological)")


def operating_marks(test: Mapping[str, Any], label: str) -> dict[str, tuple[str, float, float]]:
    """Where the run's test metrics at its threshold sit on the ROC and PR curves."""
    topological, trivial = test["topological"], test["trivial"]
    return {"roc": (label, 1.0 - (trivial["recall"] or 0.0), topological["recall"] or 0.0),
            "pr": (label, topological["recall"] or 0.0, topological["precision"] or 0.0)}


def threshold_curves(sweep: pd.DataFrame, marked: Sequence[tuple[str, float]], current: float) -> go.Figure:
    """Validation scores against the threshold (from :func:`operating_point.sweep`), with the
    candidate thresholds as labelled vertical lines and the chosen one bold."""
    series = [("balanced accuracy", "#17202a", "solid"), ("topological recall", CLASS_COLORS[1], "solid"),
              ("topological precision", CLASS_COLORS[1], "dot"), ("trivial recall", CLASS_COLORS[0], "solid")]
    fig = go.Figure([go.Scatter(x=sweep["threshold"], y=sweep[column], mode="lines", name=column,
                                line=dict(color=colour, dash=dash, width=2.5)) for column, colour, dash in series])
    for row, (name, value) in enumerate(marked):  # labels stacked so that close thresholds stay readable
        fig.add_vline(x=value, line=dict(color="#7f8c8d", width=1, dash="dash"))
        fig.add_annotation(x=value, y=0.97 - 0.08 * row, yref="paper", text=f"{name} {value:.2f}", showarrow=False,
                           xanchor="left", xshift=4, font=dict(size=12, color="#424949"), bgcolor="rgba(255,255,255,0.8)")
    fig.add_vline(x=current, line=dict(color="#17202a", width=3))
    fig.update_xaxes(title=f"Threshold on p(topological) (chosen: {current:.3f})", range=[0, 1])
    fig.update_yaxes(title="Validation score (fraction)", range=[0, 1.02])
    return legend_below(base_layout(fig, "Choosing the operating point on the validation split", 440), rows=2)


def decision_projection(projection: Mapping[str, Any], sample_ids: Sequence[str] = (),
                        threshold: float | None = THRESHOLD, classes: Mapping[str, int] = CLASSES) -> go.Figure:
    """Paper Fig. 3d: test samples in a 2-D projection of the model's features, coloured by true
    class, with the model's threshold boundary as fitted in that plane (shaded by predicted side).

    The majority class (trivial) is drawn first, small and translucent, and the topological
    materials on top, so the minority is never hidden under it.
    """
    x, y = np.asarray(projection["x"], float), np.asarray(projection["y"], float)
    labels = np.asarray(projection["label"], int)
    probability = np.asarray(projection["probability"], float)
    ids = np.asarray(list(sample_ids) or [""] * len(x), dtype=object)
    fig = go.Figure()
    boundary = projection.get("boundary")
    pad_x, pad_y = 0.05 * (np.ptp(x) or 1.0), 0.05 * (np.ptp(y) or 1.0)
    x_range, y_range = (x.min() - pad_x, x.max() + pad_x), (y.min() - pad_y, y.max() + pad_y)
    if boundary:
        gx, gy = np.meshgrid(np.linspace(*x_range, 120), np.linspace(*y_range, 120))
        side = (boundary["w"][0] * gx + boundary["w"][1] * gy + boundary["b"] > 0).astype(float)
        fig.add_trace(go.Heatmap(x=gx[0], y=gy[:, 0], z=side, zmin=0, zmax=1, showscale=False, hoverinfo="skip",
                                 colorscale=[[0, "rgba(36,113,163,0.12)"], [1, "rgba(192,57,43,0.12)"]]))
        line_x, line_y = _boundary_line(boundary["w"], boundary["b"], x_range, y_range)
        fig.add_trace(go.Scatter(x=line_x, y=line_y, mode="lines", hoverinfo="skip",
                                 line=dict(color="black", width=2, dash="dash"),
                                 name=f"threshold {threshold:.2f} in this plane "
                                      f"({boundary['boundary_agreement']:.0%} agreement)"))
    counts = {label: int((labels == label).sum()) for label in classes.values()}
    for name, label in sorted(classes.items(), key=lambda item: -counts[item[1]]):  # majority first
        mask = labels == label
        minority = counts[label] < max(counts.values())
        fig.add_trace(go.Scatter(
            x=x[mask], y=y[mask], mode="markers", name=f"true {name} (n={counts[label]:,})",
            marker=dict(color=CLASS_COLORS[label], size=8 if minority else 5, opacity=0.9 if minority else 0.35,
                        line=dict(width=0.6, color="white") if minority else dict(width=0)),
            customdata=np.column_stack([ids[mask], probability[mask]]),
            hovertemplate="%{customdata[0]}<br>P(topological) = %{customdata[1]:.2f}<extra>" + name + "</extra>",
        ))
    method = "PC" if projection.get("method") == "PCA" else "SVD component "
    variance = projection.get("explained_variance_ratio") or [np.nan, np.nan]
    fig.update_xaxes(title=f"{method}1 (arb. units; {variance[0]:.0%} of variance)", range=x_range)
    fig.update_yaxes(title=f"{method}2 (arb. units; {variance[1]:.0%} of variance)", range=y_range)
    return legend_below(base_layout(fig, "Test samples in the model's feature space, with its decision boundary", 560))


def _boundary_line(w: Sequence[float], b: float, x_range: tuple[float, float],
                   y_range: tuple[float, float]) -> tuple[list[float], list[float]]:
    """End points of ``w . z + b = 0`` across the plot, solved for the better-conditioned axis."""
    if abs(w[1]) >= abs(w[0]):
        return list(x_range), [-(w[0] * x + b) / w[1] for x in x_range]
    return [-(w[1] * y + b) / w[0] for y in y_range], list(y_range)


def comparison_bars(table: pd.DataFrame) -> go.Figure:
    """Headline metrics of several runs (rows of :func:`xanes_core.learn.results.comparison_table`)."""
    columns = [column for column in table.columns if column == "balanced accuracy" or column == "ROC AUC"
               or column.endswith(tuple(f" {m}" for m in METRICS))]
    fig = go.Figure([
        go.Bar(x=columns, y=[row[c] for c in columns], name=f"{row['model']} · {row['run']}",
               marker_color=colour, texttemplate="%{y:.2f}", textposition="outside")
        for (_, row), colour in zip(table.iterrows(), _SERIES_COLORS)
    ])
    fig.update_layout(barmode="group")
    fig.update_yaxes(title="Score (fraction)", range=[0, 1.12])
    fig.update_xaxes(tickangle=-30)
    return legend_below(base_layout(fig, "Runs compared on the test split", 480), rows=len(table))
