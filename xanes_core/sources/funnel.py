"""The paper's data funnel as tables and a plotly figure, for the dashboard and reports.

A build keeps or drops every catalogue row (each drop with a reason), so a
:class:`~xanes_core.sources.materials_project.BuildResult` holds everything needed here: the
stage totals, and per class the rows kept plus the rows dropped. Kept in the sources package
(not :mod:`xanes_core.viz`) because it only makes sense next to the build that produces it.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from xanes_core.data.dataset import CLASS_NAMES
from xanes_core.sources.materials_project import DROP_REASONS, BuildResult

STAGES = ("Catalogue entries", "Found on the Materials Project", "K-edge XANES for every element")


def funnel_stages(result: BuildResult) -> pd.DataFrame:
    """Stage name and number of materials, catalogue to dataset (the paper's funnel)."""
    counts = (result.n_catalogue, result.n_on_mp, result.n_with_all_spectra)
    return pd.DataFrame({"stage": STAGES, "materials": counts})


def funnel_figure(result: BuildResult) -> go.Figure:
    """The funnel with each stage's share of the catalogue."""
    stages = funnel_stages(result)
    fig = go.Figure(go.Funnel(
        y=stages["stage"], x=stages["materials"], textinfo="value+percent initial",
        marker=dict(color=["#7f8c8d", "#5d6d7e", "#1e8449"]),
        hovertemplate="%{y}: %{x:,} materials (%{percentInitial:.0%} of the catalogue)<extra></extra>",
    ))
    fig.update_layout(title="From catalogue to dataset", height=320, template="plotly_white",
                      margin=dict(l=60, r=30, t=60, b=30))
    return fig


def class_counts(result: BuildResult) -> pd.DataFrame:
    """Per class: catalogue rows, rows dropped, materials in the dataset."""
    kept = {1: result.n_topological, 0: result.n_trivial}
    dropped = result.drops["label"].value_counts()
    rows = [{"class": CLASS_NAMES[label], "catalogue": kept[label] + int(dropped.get(label, 0)),
             "dropped": int(dropped.get(label, 0)), "in dataset": kept[label]} for label in (1, 0)]
    return pd.DataFrame(rows)


def drop_reasons(result: BuildResult) -> pd.DataFrame:
    """Why materials left the funnel: reason code, what it means, how many."""
    return reason_table(result.dropped, DROP_REASONS, "materials")


def reason_table(dropped: dict[str, int], meanings: dict[str, str], unit: str) -> pd.DataFrame:
    """Any build's drops: reason code, what it means, and how many (column ``unit``), most first."""
    rows = [{"reason": reason, "meaning": meanings.get(reason, ""), unit: count}
            for reason, count in sorted(dropped.items(), key=lambda item: -item[1])]
    return pd.DataFrame(rows, columns=["reason", "meaning", unit])


def catalogue_classes(labels: pd.DataFrame) -> pd.DataFrame:
    """Entries of an uploaded catalogue per binary class and fine (catalogue) class."""
    table = (labels.assign(**{"class": labels["label"].map(lambda label: CLASS_NAMES[int(label)])})
             .groupby(["class", "fine_class"]).size().rename("entries").reset_index())
    return table.sort_values(["class", "entries"], ascending=[False, False], ignore_index=True)

