"""What every figure shares: class colours, axis titles with units, layout, the demo label.

Class colours are fixed (topological red, trivial blue, topological semimetal purple in the
three-class task, unlabelled grey) across every figure; every axis that has
a unit says it (energy in eV); absent or NaN values mean "no data".
"""

from __future__ import annotations

import plotly.graph_objects as go

from xanes_core.data.dataset import UNLABELLED

# topological (three classes: topological insulator), trivial, topological semimetal, unknown
CLASS_COLORS = {1: "#c0392b", 0: "#2471a3", 2: "#7d3c98", UNLABELLED: "#7f8c8d"}
REGION_COLORS = {1: "rgba(192,57,43,0.15)", 0: "rgba(36,113,163,0.15)"}
NO_DATA_COLOR = "#e3e3e3"
ENERGY_AXIS = "Energy (eV)"
ABSORPTION_AXIS = "Absorption μ(E) (normalized)"
DEMO_LABEL = "synthetic demo data"


def base_layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    """Title, height, template and margins shared by every figure builder, so they look alike."""
    fig.update_layout(title=title, height=height, template="plotly_white",
                      margin=dict(l=60, r=30, t=60, b=50))
    return fig


def legend_below(fig: go.Figure, rows: int = 1) -> go.Figure:
    """Put the legend under the plot (horizontal), where it cannot cover data; ``rows`` is how
    many lines it may need, so the bottom margin makes room for it."""
    fig.update_layout(legend=dict(orientation="h", x=0, xanchor="left", y=0, yanchor="bottom",
                                  yref="container"),
                      margin=dict(b=70 + 22 * rows))
    return fig


def for_slides(fig: go.Figure, scale: float = 1.35) -> go.Figure:
    """Larger text throughout (axes, ticks, legend, title, cell numbers) for a projector: the
    figure's own sizes times ``scale``, so relative emphasis is kept."""
    base = (fig.layout.font.size or 12) * scale
    fig.update_layout(font=dict(size=base), title_font_size=(fig.layout.title.font.size or 17) * scale)
    for trace in fig.data:
        size = getattr(getattr(trace, "textfont", None), "size", None)
        if isinstance(size, (int, float)):
            trace.textfont.size = size * scale
    return fig


def label_demo(fig: go.Figure) -> go.Figure:
    """Write the demo label into the figure (top right), so an exported PNG cannot lose it.

    Used by the dashboard and the HTML report alike, so demo figures are labelled the same way.
    """
    fig.add_annotation(text=DEMO_LABEL, xref="paper", yref="paper", x=1, y=1.08, showarrow=False,
                       xanchor="right", font=dict(size=11, color="#b9770e"))
    return fig
