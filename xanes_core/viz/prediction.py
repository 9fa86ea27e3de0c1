"""Plotly figures of one prediction: a material's spectra against the training data, the
probability, and each element's contribution (Predict page, notebooks; no Streamlit).

Training spectra are drawn as a light band per class (10th-90th percentile, median dashed)
rather than as hundreds of lines: with thousands of spectra per element lines would hide the
one spectrum the figure is about. Colours are the shared class colours of :mod:`xanes_core.viz.style`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from xanes_core.analysis.materials import ElementSpectrum
from xanes_core.analysis.matching import Match
from xanes_core.analysis.prediction import Contribution
from xanes_core.analysis.symmetry_contribution import SymmetryContribution
from xanes_core.data.dataset import CLASS_NAMES, LABEL_NAMES, XanesDataset
from xanes_core.data.elements import CHANNELS, k_edge_energy
from xanes_core.io import NormalizedSpectrum
from xanes_core.viz.style import ABSORPTION_AXIS, CLASS_COLORS, ENERGY_AXIS, base_layout, legend_below

BAND_QUANTILES = (0.1, 0.5, 0.9)
_BAND_FILL = {1: "rgba(192,57,43,0.15)", 0: "rgba(36,113,163,0.15)"}
_MATERIAL_COLOR = "#17202a"
_UNTRUSTED_COLOR = "#aab7b8"
_CLASS_OF_NAME = {name: label for label, name in LABEL_NAMES.items()}


@dataclass(frozen=True)
class ClassBand:
    """Low / median / high quantiles of one class's training spectra on an element's grid."""

    label: int
    count: int
    low: np.ndarray
    median: np.ndarray
    high: np.ndarray


def training_bands(dataset: XanesDataset, element: str, split: str = "train") -> list[ClassBand]:
    """The bands of each class present among ``split``'s spectra of ``element`` (may be empty)."""
    rows = dataset.element_rows(element)
    rows = rows[np.isin(dataset.sample_index[rows], dataset.split_indices(split))]
    labels = dataset.labels[dataset.sample_index[rows]]
    bands = []
    for label in (1, 0):
        spectra = dataset.spectra[rows[labels == label]]
        if len(spectra):
            low, median, high = np.quantile(spectra, BAND_QUANTILES, axis=0)
            bands.append(ClassBand(label, len(spectra), low, median, high))
    return bands


def spectrum_vs_training(entry: ElementSpectrum, bands: list[ClassBand]) -> go.Figure:
    """The material's spectrum on its element's model grid over the training bands by class."""
    fig = go.Figure()
    for band in bands:
        name = f"{CLASS_NAMES[band.label]} training spectra (n={band.count:,})"
        group = f"class-{band.label}"
        fig.add_trace(go.Scatter(x=entry.energy, y=band.high, mode="lines", line=dict(width=0),
                                 legendgroup=group, showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=entry.energy, y=band.low, mode="lines", line=dict(width=0),
                                 fill="tonexty", fillcolor=_BAND_FILL[band.label], legendgroup=group,
                                 name=f"{name}: 10-90%", hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=entry.energy, y=band.median, mode="lines", legendgroup=group,
                                 line=dict(color=CLASS_COLORS[band.label], width=1.5, dash="dash"),
                                 name=f"{CLASS_NAMES[band.label]} median",
                                 hovertemplate="%{x:.1f} eV<br>median μ = %{y:.3f}<extra></extra>"))
    coverage = "" if entry.coverage >= 0.999 else f" ({entry.coverage:.0%} of the grid)"
    fig.add_trace(go.Scatter(x=entry.energy, y=entry.mu, mode="lines", name=entry.name + coverage,
                             line=dict(color=_MATERIAL_COLOR, width=2.5),
                             hovertemplate="%{x:.1f} eV<br>μ = %{y:.3f}<extra></extra>"))
    fig.add_vline(x=k_edge_energy(entry.element), line=dict(color="#7f8c8d", width=1, dash="dot"),
                  annotation_text="K edge", annotation_position="bottom right")
    fig.update_xaxes(title=ENERGY_AXIS, tickformat=",.0f")
    fig.update_yaxes(title=ABSORPTION_AXIS)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))
    return base_layout(fig, f"{entry.element} K edge: {entry.name} vs training", 460)


def raw_and_normalized(spectrum: NormalizedSpectrum, name: str) -> go.Figure:
    """The file's curve as measured (grey, right axis) and normalized (black, left axis), E0 marked.

    One panel with two axes rather than two panels: the curves share the energy axis, and the
    figure stays readable at half the page width beside the training comparison.
    """
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    hover = "%{x:.1f} eV<br>μ = %{y:.4g}<extra>%{fullData.name}</extra>"
    fig.add_trace(go.Scatter(x=spectrum.energy, y=spectrum.mu_raw, mode="lines", name="as read from the file",
                             line=dict(color="#99a3a4", width=1.5), hovertemplate=hover), secondary_y=True)
    fig.add_trace(go.Scatter(x=spectrum.energy, y=spectrum.mu_norm, mode="lines",
                             name=f"normalized ({spectrum.method})",
                             line=dict(color=_MATERIAL_COLOR, width=2), hovertemplate=hover), secondary_y=False)
    fig.add_vline(x=spectrum.e0, line=dict(color="#7f8c8d", width=1, dash="dot"),
                  annotation_text=f"E0 {spectrum.e0:,.1f} eV", annotation_position="bottom right")
    fig.update_xaxes(title=ENERGY_AXIS, tickformat=",.0f")
    fig.update_yaxes(title=ABSORPTION_AXIS, secondary_y=False)
    fig.update_yaxes(title="μ(E) as in the file (arb. units)", secondary_y=True, showgrid=False)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))
    return base_layout(fig, f"{spectrum.element}: {name}, edge step {spectrum.edge_step:.3g}", 460)


def probability_gauge(p_topological: float, threshold: float, trusted: bool = True,
                      interval: tuple[float, float] | None = None) -> go.Figure:
    """p(topological) as a horizontal bar from 0 to 1 over the run's two class regions; a grey
    bar when the material lies outside the training data (``trusted=False``); an ensemble's
    member range (``interval``) in the title."""
    colour = CLASS_COLORS[int(p_topological >= threshold)] if trusted else _UNTRUSTED_COLOR
    fig = go.Figure(go.Indicator(
        mode="gauge", value=p_topological,
        gauge=dict(shape="bullet", axis=dict(range=[0, 1], tickformat=".0%"),
                   bar=dict(color=colour, thickness=0.6),
                   steps=[dict(range=[0, threshold], color="rgba(36,113,163,0.12)"),
                          dict(range=[threshold, 1], color="rgba(192,57,43,0.12)")],
                   threshold=dict(value=threshold, line=dict(color=_MATERIAL_COLOR, width=3), thickness=0.9)),
        domain=dict(x=[0.02, 0.98], y=[0.3, 1.0]),
    ))
    note = "" if trusted else " · outside the training data, not to be trusted"
    if interval is not None:
        note = f" · CNNs {interval[0]:.0%}-{interval[1]:.0%}{note}"
    return base_layout(fig, f"p(topological) = {p_topological:.1%} · threshold {threshold:.2f} "
                        f"(trivial below, topological above){note}", 170)


_EFFECTS = (("spectrum_effect", "spectrum (vs class-neutral spectrum)", "#6c3483"),
            ("presence_effect", "presence (vs element absent)", "#b2babb"),
            ("delta", "both (leave-one-out)", "#17202a"))


def readable_axis(values: Sequence[float]) -> dict:
    """Tick step and format for values shown in percentage points, so that every tick label is
    distinct: a span of 0.004 gets "+0.1" steps, not five labels that all read "-0.00"."""
    span = max((max(values) - min(values)) if len(values) else 0.0, max((abs(v) for v in values), default=0.0), 1e-6)
    raw = span / 4
    step = 10 ** np.floor(np.log10(raw))
    step *= next(m for m in (1, 2, 5, 10) if raw <= m * step)
    decimals = max(0, int(-np.floor(np.log10(step) + 1e-9)))
    return dict(dtick=float(step), tickformat=f"+.{decimals}f")


def contribution_bars(contributions: Mapping[str, Contribution],
                      symmetry: SymmetryContribution | None = None) -> go.Figure:
    """Per element (channel order) the effect of its spectrum and of its presence as bars, and
    their sum, the leave-one-out delta, as a marker (:mod:`xanes_core.analysis.contributions`);
    the space group's (p with it minus p with it unknown) as its own hatched bar. In percentage
    points, on an axis whose tick labels are all distinct. Effects a prediction lacks are not drawn."""
    elements = sorted(contributions, key=CHANNELS.index)
    fig, shown = go.Figure(), []
    for name, label, colour in _EFFECTS:
        values = [getattr(contributions[e], name) for e in elements]
        if all(v is None for v in values):
            continue
        points = [None if v is None else 100 * v for v in values]
        shown += [v for v in points if v is not None]
        hover = "%{y}: Δp = %{x:+.2f} points<extra>" + label + "</extra>"
        if name == "delta":
            fig.add_trace(go.Scatter(x=points, y=elements, mode="markers", name=label, hovertemplate=hover,
                                     marker=dict(symbol="diamond", size=11, color=colour)))
        else:
            fig.add_trace(go.Bar(x=points, y=elements, orientation="h", name=label, marker_color=colour,
                                 hovertemplate=hover))
    if symmetry is not None:
        shown.append(100 * symmetry.delta)
        fig.add_trace(go.Bar(
            x=[100 * symmetry.delta], y=[f"space group {symmetry.space_group}"], orientation="h",
            name="space group (vs unknown)", marker=dict(color="#d68910", pattern_shape="/"),
            hovertemplate=f"Δp = %{{x:+.2f}} points<br>p with the space group unknown = {symmetry.p_unknown:.3f}"
                          "<extra>space group</extra>"))
    fig.add_vline(x=0, line=dict(color="#566573", width=1))
    fig.update_layout(barmode="group")
    fig.update_xaxes(title="Δ p(topological), percentage points: ← towards trivial · towards topological →",
                     zeroline=False, **readable_axis(shown))
    fig.update_yaxes(title="", autorange="reversed")
    rows = len(elements) + (symmetry is not None)
    return legend_below(base_layout(fig, "What each spectrum, each element's presence and the space group contribute",
                                    200 + 50 * rows), rows=2)


def matches_overlay(element: str, energy: np.ndarray, query: np.ndarray, name: str,
                    matches: Sequence[Match], spectra: Sequence[np.ndarray]) -> go.Figure:
    """A spectrum (aligned to its best match) over its best matches in the dataset, each match
    coloured by its class and named with its formula, similarity and the shift that lines it up."""
    fig = go.Figure()
    for match, mu in zip(matches, spectra):
        colour = CLASS_COLORS[_CLASS_OF_NAME.get(match.label, -1)]
        fig.add_trace(go.Scatter(
            x=energy, y=mu, mode="lines", line=dict(color=colour, width=1.5),
            name=f"{match.formula or match.sample_id} ({match.label}) · similarity {match.similarity:.3f}",
            hovertemplate=f"{match.sample_id}<br>%{{x:.1f}} eV<br>μ = %{{y:.3f}}<extra></extra>"))
    fig.add_trace(go.Scatter(x=energy, y=query, mode="lines", line=dict(color=_MATERIAL_COLOR, width=2.5),
                             name=f"{name} (moved {matches[0].shift_ev:+.1f} eV)" if matches else name,
                             hovertemplate="%{x:.1f} eV<br>μ = %{y:.3f}<extra></extra>"))
    fig.update_xaxes(title=ENERGY_AXIS, tickformat=",.0f")
    fig.update_yaxes(title=ABSORPTION_AXIS)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))
    return base_layout(fig, f"{element} K edge: {name} and its closest spectra in the dataset", 480)
