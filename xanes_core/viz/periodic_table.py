"""Periodic-table heatmaps: counts, ratios and per-element scores drawn where chemists look.

Drawn with ``go.Heatmap`` over :func:`xanes_core.data.elements.table_position` rather than with
``pymatviz.ptable_heatmap``: importing pymatviz 0.18 takes ~2.7 s (a third of the dashboard's
first-render budget on every cold start), it ties us to plotly<7 through
``create_annotated_heatmap``, and we need two things it does not give directly: cells for
elements **with no data** drawn grey with a hover saying so, and hover text that carries the
counts behind each number.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from xanes_core.data.dataset import CLASS_NAMES
from xanes_core.data.elements import CHANNELS, table_position
from xanes_core.viz.style import NO_DATA_COLOR, base_layout

_N_TABLE_ROWS = 10  # 7 periods, a gap, lanthanides, actinides


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
        go.Heatmap(z=missing, hovertext=tips, colorscale=[[0, NO_DATA_COLOR], [1, NO_DATA_COLOR]],
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
