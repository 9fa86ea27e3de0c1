"""Clustering: how much of topology one element's spectra show without supervision (paper Fig. 2).

PCA and k-means are fitted on the chosen element's training spectra and the fractions count all
of its spectra (all splits), as the page, the tooltips and paper Fig. 2c-d say; each fraction is
shown beside its chance level. See :mod:`xanes_core.analysis.clustering` for the matching.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from pages import common
from xanes_core.analysis import clustering
from xanes_core.data.dataset import CLASS_NAMES, LABEL_NAMES, XanesDataset
from xanes_core.data.elements import CHANNELS
from xanes_core.viz.clustering import clustering_regions
from xanes_core.viz.dataset import spectra_overlay
from xanes_core.viz.periodic_table import clustering_periodic_tables

PREFERRED_ELEMENT = "Bi"


@st.cache_data(show_spinner="Fitting PCA and k-means…", max_entries=64)
def _cluster(key: str, _dataset: XanesDataset, symbol: str) -> clustering.ElementClustering:
    return clustering.cluster_element(_dataset, symbol)


def _points_table(dataset: XanesDataset, result: clustering.ElementClustering) -> pd.DataFrame:
    samples = dataset.sample_index[result.rows]
    return pd.DataFrame({
        "sample_id": dataset.metadata["sample_id"].to_numpy()[samples],
        "formula": dataset.metadata["formula"].to_numpy()[samples],
        "split": result.splits,
        "true_class": [LABEL_NAMES[int(v)] for v in result.labels],
        "cluster_class": [CLASS_NAMES[int(v)] for v in result.predicted],
        "pc1": result.coords[:, 0],
        "pc2": result.coords[:, 1],
    })


def _element_section(loaded: common.Loaded, symbol: str) -> None:
    dataset = loaded.dataset
    result = _cluster(loaded.key, dataset, symbol)
    columns = st.columns(2)
    for column, label in zip(columns, (1, 0)):
        correct, total = result.counts(label)
        chance = result.chance_fraction(label)
        column.metric(f"{CLASS_NAMES[label].capitalize()} spectra correctly clustered",
                      f"{result.fraction_correct(label):.0%}" if total else "–",
                      delta=f"{result.fraction_correct(label) - chance:+.0%} vs chance ({chance:.0%})" if total else None,
                      delta_color="normal",
                      help=f"{correct} of {total} {CLASS_NAMES[label]} {symbol} spectra (all splits) land in the cluster "
                           f"matched to their class. Chance: the same two cluster sizes filled at random would give "
                           f"{chance:.0%}. Paper Fig. 2c-d maps this fraction for every element (see All elements).")
    regions, spectra = st.columns(2)
    with regions:
        common.show_figure(clustering_regions(result), f"clustering_regions_{symbol}", loaded)
    with spectra:
        rows = clustering.representative_rows(result)
        samples = dataset.sample_index[rows]
        fig = spectra_overlay(
            dataset.grids[CHANNELS.index(symbol)], dataset.spectra[rows], dataset.labels[samples],
            dataset.metadata["formula"].to_numpy()[samples], class_means=True,
            title=f"{symbol}: spectra most typical of each class",
        )
        common.show_figure(fig, f"representative_spectra_{symbol}", loaded)
    common.download_csv(_points_table(dataset, result), f"clustering_{symbol}", loaded,
                        label=f"Download the {symbol} PCA coordinates and clusters as CSV")


def _all_elements_section(loaded: common.Loaded) -> None:
    scores = common.cluster_scores(loaded)
    st.caption("Each element clustered on its own, exactly as above; each cell prints the fraction and the number of "
               "spectra. Red: above a coin toss (0.5), blue: below; pale: fewer than ten spectra; grey: too few "
               "training spectra to cluster.")
    for fig, name in zip(clustering_periodic_tables(scores),
                         ("ptable_clustered_topological", "ptable_clustered_trivial")):
        common.show_figure(fig, name, loaded)
    common.download_csv(scores, "clustering_all_elements", loaded, label="Download scores for all elements as CSV")


loaded = common.current()
common.page_header("Clustering", loaded,
                   "PCA to two components and two-cluster k-means per absorbing element, fitted on the training "
                   "split; “correctly clustered” counts all of the element's spectra (all splits), as in paper "
                   "Fig. 2c-d.")
present = [CHANNELS[c] for c in np.unique(loaded.dataset.channel)]
if not present:
    st.info("This dataset holds no spectra.")
    st.stop()
symbol = st.selectbox("Absorbing element", present, key="cluster_element",
                      index=present.index(PREFERRED_ELEMENT) if PREFERRED_ELEMENT in present else 0)
with common.user_errors():
    _element_section(loaded, symbol)
st.subheader("All elements")
with common.user_errors():
    _all_elements_section(loaded)
