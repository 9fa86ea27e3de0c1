"""Dataset figures: spectra of one element by class, Table 1 bars, split balance per element."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from xanes_core.data.dataset import CLASS_NAMES, LABEL_NAMES, UNLABELLED
from xanes_core.viz.style import ABSORPTION_AXIS, CLASS_COLORS, ENERGY_AXIS, base_layout, legend_below


def spectra_overlay(energy: np.ndarray, spectra: np.ndarray, labels: Sequence[int], names: Sequence[str], *,
                    title: str, class_means: bool = False, edge: float | None = None,
                    highlight: int | None = None, name_each: bool = False) -> go.Figure:
    """Spectra of one element on its energy grid, coloured by class (one legend entry per class).

    Spectra of unknown class (grey) are drawn first, trivial ones over them and topological ones
    on top, so the rarer class is never hidden. With ``class_means`` each class's mean spectrum is drawn bold over its members (Fig.
    2b); ``edge`` (E0, eV) puts the energy axis relative to it (E - E0); ``highlight`` (a row of
    ``spectra``) draws that material bold in black on top of everything; ``name_each`` gives every
    spectrum its own legend entry (a few materials compared, as in a composition family).
    """
    labels_array = np.asarray(labels).astype(int)
    x = np.asarray(energy) - (edge or 0.0)
    fig = go.Figure()
    for label in (UNLABELLED, 0, 1):  # unknown underneath, topological last: on top
        for row in np.flatnonzero(labels_array == label):
            fig.add_trace(go.Scatter(
                x=x, y=spectra[row], mode="lines", name=str(names[row]) if name_each else LABEL_NAMES[label],
                legendgroup=str(label), showlegend=name_each or bool(row == np.flatnonzero(labels_array == label)[0]),
                line=dict(color=CLASS_COLORS[label], width=1.2), opacity=0.4 if class_means else 0.6,
                hovertemplate=f"{names[row]}<br>%{{x:.1f}} eV<br>μ = %{{y:.3f}}<extra>{LABEL_NAMES[label]}</extra>",
            ))
    if class_means:
        for label in (0, 1):
            if (labels_array == label).any():
                fig.add_trace(go.Scatter(
                    x=x, y=np.asarray(spectra)[labels_array == label].mean(axis=0), mode="lines",
                    name=f"{CLASS_NAMES[label]} mean (n={int((labels_array == label).sum())})",
                    line=dict(color=CLASS_COLORS[label], width=4)))
    if highlight is not None:
        fig.add_trace(go.Scatter(x=x, y=spectra[highlight], mode="lines", name=str(names[highlight]),
                                 line=dict(color="#17202a", width=3.5)))
    axis = ENERGY_AXIS if edge is None else f"E − E0 (eV), E0 = K edge {edge:,.1f} eV"
    fig.update_xaxes(title=axis, tickformat=",.0f")  # "90,520" rather than "90.52k"
    fig.update_yaxes(title=ABSORPTION_AXIS)
    return legend_below(base_layout(fig, title, 480))


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
