"""Clustering figure: one element's spectra in its PCA plane with the k-means decision regions."""

from __future__ import annotations

import plotly.graph_objects as go

from xanes_core.analysis.clustering import ElementClustering
from xanes_core.data.dataset import CLASS_NAMES
from xanes_core.viz.style import CLASS_COLORS, REGION_COLORS, base_layout

_SPLIT_SYMBOLS = {"train": "circle", "validation": "diamond", "test": "x"}


def clustering_regions(result: ElementClustering) -> go.Figure:
    """Paper Fig. 2a: k-means decision regions in the PCA plane with every spectrum on top.

    Region shading shows the class each cluster was matched to; markers show the true class
    (colour) and the split (shape), so generalization to validation/test is visible at a glance.
    """
    scale = [[0, REGION_COLORS[0]], [1, REGION_COLORS[1]]]
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
