"""Plotly figure builders shared by the dashboard pages, reports and notebooks (no Streamlit).

Periodic tables are drawn here with ``go.Heatmap`` over :func:`xanes_core.data.elements.table_position`
rather than with ``pymatviz.ptable_heatmap``. Reasons: importing pymatviz 0.18 takes ~2.7 s
(a third of the dashboard's first-render budget on every cold start), it ties us to plotly<7
through ``create_annotated_heatmap``, and we need two things it does not give directly:
cells for elements **with no data** drawn grey with a hover saying so, and hover text that
carries the counts behind each number. Our own heatmap is ~60 lines and does both.

Conventions: class colours are fixed (topological red, trivial blue) across every figure; every
axis that has a unit says it (energy in eV); absent or NaN values mean "no data".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from xanes_core.analysis.clustering import CLASS_NAMES, ElementClustering
from xanes_core.data.elements import CHANNELS, table_position

CLASS_COLORS = {1: "#c0392b", 0: "#2471a3"}  # topological, trivial
_REGION_COLORS = {1: "rgba(192,57,43,0.15)", 0: "rgba(36,113,163,0.15)"}
_NO_DATA_COLOR = "#e3e3e3"
_SPLIT_SYMBOLS = {"train": "circle", "validation": "diamond", "test": "x"}
ENERGY_AXIS = "Energy (eV)"
ABSORPTION_AXIS = "Absorption μ(E) (normalized)"
_N_TABLE_ROWS = 10  # 7 periods, a gap, lanthanides, actinides
DEMO_LABEL = "synthetic demo data"


def base_layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    """Title, height, template and margins shared by every figure builder, so they look alike."""
    fig.update_layout(title=title, height=height, template="plotly_white",
                      margin=dict(l=60, r=30, t=60, b=50))
    return fig


def label_demo(fig: go.Figure) -> go.Figure:
    """Write the demo label into the figure (top right), so an exported PNG cannot lose it.

    Used by the dashboard and the HTML report alike, so demo figures are labelled the same way.
    """
    fig.add_annotation(text=DEMO_LABEL, xref="paper", yref="paper", x=1, y=1.08, showarrow=False,
                       xanchor="right", font=dict(size=11, color="#b9770e"))
    return fig


def _grid_row(row: int) -> int:
    """Table row to heatmap row: leave row 8 empty between the main table and the f-block."""
    return row + 1 if row >= 8 else row


def periodic_table(values: Mapping[str, float], *, title: str, colorbar_title: str,
                   hover: Mapping[str, str] | None = None, colorscale: str = "Viridis",
                   zrange: tuple[float, float] | None = None, log: bool = False) -> go.Figure:
    """Heatmap of one number per element channel; channels without a value are grey "no data".

    ``hover`` gives each element's hover text (counts behind the number); elements absent from
    it get their value. With ``log`` the colour is log10 of the value (values are clipped to
    ``zrange`` first, so 0 and inf ratios get the end colours) and the colour bar is labelled
    in real values.
    """
    hover = hover or {}
    colour = np.full((_N_TABLE_ROWS, 18), np.nan)
    missing = np.full((_N_TABLE_ROWS, 18), np.nan)
    text = np.full((_N_TABLE_ROWS, 18), "", dtype=object)
    tips = np.full((_N_TABLE_ROWS, 18), "", dtype=object)
    for symbol in CHANNELS:
        pos = table_position(symbol)
        r, c = _grid_row(pos.row) - 1, pos.column - 1
        value = values.get(symbol, np.nan)
        text[r, c] = symbol
        if value is None or np.isnan(value):
            missing[r, c] = 1.0
            tips[r, c] = hover.get(symbol, f"{symbol}: no data")
            continue
        if zrange is not None:
            value = float(np.clip(value, *zrange))
        colour[r, c] = np.log10(value) if log else value
        tips[r, c] = hover.get(symbol, f"{symbol}: {value:.3g}")
    colorbar = dict(title=colorbar_title)
    bounds = (np.log10(zrange[0]), np.log10(zrange[1])) if (log and zrange) else zrange
    if log:
        finite = colour[np.isfinite(colour)]
        bounds = bounds or (float(np.floor(finite.min(initial=0.0))), float(finite.max(initial=1.0)))
        ticks = _log_ticks(*bounds)
        colorbar.update(tickvals=np.log10(ticks), ticktext=[f"{t:g}" for t in ticks])
    common = dict(x=np.arange(1, 19), y=np.arange(1, _N_TABLE_ROWS + 1), text=text,
                  texttemplate="%{text}", hoverinfo="text", xgap=2, ygap=2, hoverongaps=False)
    fig = go.Figure([
        go.Heatmap(z=missing, hovertext=tips, colorscale=[[0, _NO_DATA_COLOR], [1, _NO_DATA_COLOR]],
                   showscale=False, name="no data", **common),
        go.Heatmap(z=colour, hovertext=tips, colorscale=colorscale, colorbar=colorbar,
                   zmin=bounds[0] if bounds else None, zmax=bounds[1] if bounds else None,
                   name=colorbar_title, **common),
    ])
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    fig.add_annotation(text="grey: no data", x=0.6, y=8, showarrow=False, xanchor="left",
                       font=dict(size=11, color="#666"))
    return base_layout(fig, title, 500)


def _log_ticks(low: float, high: float) -> list[float]:
    """1-2-5 ticks between two log10 bounds; decades only when they span more than two."""
    steps = (1,) if high - low > 2 else (1, 2, 5)
    return [m * 10.0 ** k for k in range(int(np.floor(low)), int(np.ceil(high)) + 1) for m in steps
            if low - 1e-9 <= np.log10(m * 10.0 ** k) <= high + 1e-9]


def count_periodic_tables(counts: pd.DataFrame) -> list[go.Figure]:
    """Paper Fig. S1a-b: samples per element for each class, and the topological/trivial ratio.

    ``counts`` is :func:`xanes_core.data.browse.element_class_counts` output.
    """
    hover = {
        row.element: (f"<b>{row.element}</b><br>topological: {row.n_topological}<br>"
                      f"trivial: {row.n_trivial}<br>ratio: {_ratio_text(row.ratio)}")
        for row in counts.itertuples()
    }
    figures = []
    for label in (1, 0):
        name = CLASS_NAMES[label]
        column = counts[f"n_{name}"]
        values = dict(zip(counts["element"], column.where(column > 0).astype(float)))
        figures.append(periodic_table(values, title=f"{name.capitalize()} samples per absorbing element",
                                      colorbar_title="samples", hover=hover, log=True,
                                      colorscale="YlOrRd" if label else "YlGnBu"))
    ratio = dict(zip(counts["element"], counts["ratio"].astype(float)))
    figures.append(periodic_table(ratio, title="Topological / trivial ratio per absorbing element",
                                  colorbar_title="ratio", hover=hover, log=True,
                                  colorscale="RdBu_r", zrange=(0.01, 100.0)))
    return figures


def _ratio_text(ratio: float) -> str:
    return "∞ (no trivial samples)" if np.isinf(ratio) else f"{ratio:.3g}"


def clustering_periodic_tables(scores: pd.DataFrame) -> list[go.Figure]:
    """Paper Fig. 2c-d: fraction of each class's spectra correctly clustered, per element.

    ``scores`` is :func:`xanes_core.analysis.clustering.cluster_all_elements` output; elements that could
    not be clustered are grey with the reason in their hover.
    """
    figures = []
    for name in ("topological", "trivial"):
        hover = {}
        for row in scores.itertuples():
            correct, total = getattr(row, f"correct_{name}"), getattr(row, f"n_{name}")
            detail = row.note or f"{correct} of {total} {name} spectra correctly clustered"
            hover[row.element] = f"<b>{row.element}</b><br>{detail}"
        values = dict(zip(scores["element"], scores[f"fraction_{name}"].astype(float)))
        figures.append(periodic_table(values, title=f"Fraction of {name} spectra correctly clustered",
                                      colorbar_title="fraction", hover=hover, zrange=(0.0, 1.0)))
    return figures


def spectra_overlay(energy: np.ndarray, spectra: np.ndarray, labels: Sequence[int],
                    names: Sequence[str], *, title: str, class_means: bool = False) -> go.Figure:
    """Spectra of one element on its energy grid, coloured by class (one legend entry per class).

    With ``class_means`` each class's mean spectrum is drawn bold over its members (Fig. 2b).
    """
    fig = go.Figure()
    shown: set[int] = set()
    for spectrum, label, name in zip(spectra, labels, names):
        label = int(label)
        fig.add_trace(go.Scatter(
            x=energy, y=spectrum, mode="lines", name=CLASS_NAMES[label], legendgroup=str(label),
            showlegend=label not in shown, line=dict(color=CLASS_COLORS[label], width=1),
            opacity=0.45 if class_means else 0.7,
            hovertemplate=f"{name}<br>%{{x:.1f}} eV<br>μ = %{{y:.3f}}<extra>{CLASS_NAMES[label]}</extra>",
        ))
        shown.add(label)
    if class_means:
        labels_array = np.asarray(labels)
        for label in sorted(shown):
            fig.add_trace(go.Scatter(
                x=energy, y=np.asarray(spectra)[labels_array == label].mean(axis=0), mode="lines",
                name=f"{CLASS_NAMES[label]} mean", line=dict(color=CLASS_COLORS[label], width=3),
            ))
    fig.update_xaxes(title=ENERGY_AXIS, tickformat=",.0f")  # "90,520" rather than "90.52k"
    fig.update_yaxes(title=ABSORPTION_AXIS)
    return base_layout(fig, title, 450)


def element_count_bars(table: pd.DataFrame) -> go.Figure:
    """Paper Table 1 as grouped bars: samples per number of absorbing elements, by class."""
    fig = go.Figure([
        go.Bar(x=table["n_elements"], y=table[CLASS_NAMES[label]], name=CLASS_NAMES[label],
               marker_color=CLASS_COLORS[label])
        for label in (1, 0)
    ])
    fig.update_layout(barmode="group")
    fig.update_xaxes(title="Distinct absorbing elements per material", dtick=1)
    fig.update_yaxes(title="Materials (count)")
    return base_layout(fig, "Materials by number of absorbing elements", 380)


def split_balance_bars(balance: pd.DataFrame) -> go.Figure:
    """Paper Fig. S1c: per element, the fraction of its samples in train / validation / test.

    Dashed lines mark the 70 % and 80 % targets so an unbalanced element stands out.
    """
    colours = {"train": "#5d6d7e", "validation": "#f5b041", "test": "#58d68d"}
    fig = go.Figure([
        go.Bar(x=balance["element"], y=balance[split], name=split, marker_color=colours[split],
               customdata=balance["n_samples"],
               hovertemplate="%{x}: %{y:.0%} of %{customdata} samples<extra>" + split + "</extra>")
        for split in ("train", "validation", "test")
    ])
    for target in (0.7, 0.8):
        fig.add_hline(y=target, line_dash="dash", line_color="#333", line_width=1)
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title="Absorbing element", tickangle=-90)
    fig.update_yaxes(title="Fraction of the element's samples", range=[0, 1], tickformat=".0%")
    return base_layout(fig, "Split balance per absorbing element", 420)


def clustering_regions(result: ElementClustering) -> go.Figure:
    """Paper Fig. 2a: k-means decision regions in the PCA plane with every spectrum on top.

    Region shading shows the class each cluster was matched to; markers show the true class
    (colour) and the split (shape), so generalization to validation/test is visible at a glance.
    """
    scale = [[0, _REGION_COLORS[0]], [1, _REGION_COLORS[1]]]
    fig = go.Figure(go.Heatmap(x=result.grid_x, y=result.grid_y, z=result.grid_class, zmin=0, zmax=1,
                               colorscale=scale, showscale=False, hoverinfo="skip"))
    for label in (1, 0):
        for split, symbol in _SPLIT_SYMBOLS.items():
            mask = (result.labels == label) & (result.splits == split)
            if not mask.any():
                continue
            fig.add_trace(go.Scatter(
                x=result.coords[mask, 0], y=result.coords[mask, 1], mode="markers",
                name=f"{CLASS_NAMES[label]}, {split}",
                marker=dict(color=CLASS_COLORS[label], symbol=symbol, size=6, opacity=0.75,
                            line=dict(width=0.5, color="white")),
                customdata=result.rows[mask],
                hovertemplate="spectrum row %{customdata}<br>PC1 %{x:.3g}, PC2 %{y:.3g}<extra></extra>",
            ))
    fig.add_trace(go.Scatter(x=result.centers[:, 0], y=result.centers[:, 1], mode="markers",
                             name="k-means centres", marker=dict(symbol="star", size=14, color="black")))
    variance = result.explained_variance
    fig.update_xaxes(title=f"PC 1 score (arb. units; {variance[0]:.0%} of variance)")
    fig.update_yaxes(title=f"PC 2 score (arb. units; {variance[1]:.0%} of variance)")
    return base_layout(fig, f"{result.symbol} K-edge: PCA + k-means decision regions", 520)
