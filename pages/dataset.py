"""Dataset browser: filter materials, read their table, overlay their spectra, compare composition
families (pages/dataset_families.py), see the dataset's shape.

The overview figures (paper Fig. S1a-c and Table 1) describe the whole dataset, as in the
paper; the table and the spectra follow the filters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from pages import common, dataset_families
from xanes_core.data import browse
from xanes_core.data.dataset import LABEL_NAMES, XanesDataset
from xanes_core.data.elements import CHANNELS, k_core_hole_width, k_edge_energy
from xanes_core.data.preprocess import split_balance
from xanes_core.viz import dataset as dataset_figures
from xanes_core.viz.periodic_table import count_periodic_tables

MAX_SPECTRA_DEFAULT = 40
MAX_SPECTRA_LIMIT = 200
BROAD_CORE_HOLE_EV = 10.0  # above this K-level width the near-edge features wash out


@st.cache_data(show_spinner=False)
def _all_samples_table(key: str, _dataset: XanesDataset) -> pd.DataFrame:
    return browse.sample_table(_dataset, np.arange(_dataset.n_samples))


@st.cache_data(show_spinner="Counting samples…")
def _overview(key: str, _dataset: XanesDataset) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return (browse.element_class_counts(_dataset), browse.element_count_table(_dataset),
            split_balance(_dataset))


def _filters(dataset: XanesDataset) -> browse.SampleFilter:
    meta = dataset.metadata
    present = [CHANNELS[c] for c in np.unique(dataset.channel)]
    max_elements = int(meta["elements"].map(len).max())
    left, middle, right = st.columns(3)
    elements = left.multiselect("Absorbing elements (material contains all)", present, key="f_elements")
    known = [LABEL_NAMES[label] for label in LABEL_NAMES if (meta["label"] == label).any()]
    classes = middle.multiselect("Class", known, key="f_classes")
    n_range = right.slider("Number of absorbing elements", 1, max(max_elements, 2), (1, max(max_elements, 2)),
                           key="f_n_elements")
    left, middle, right = st.columns(3)
    systems = left.multiselect("Crystal system", sorted(meta["crystal_system"].unique()), key="f_systems")
    groups = middle.multiselect("Space group (number)", sorted(int(g) for g in meta["space_group"].unique()),
                                key="f_groups")
    formula = right.text_input("Formula contains", key="f_formula", placeholder="e.g. Bi2Se3 or Se")
    name_to_label = {name: label for label, name in LABEL_NAMES.items()}
    return browse.SampleFilter(
        elements=tuple(elements), labels=tuple(name_to_label[c] for c in classes), n_elements=n_range,
        crystal_systems=tuple(systems), space_groups=tuple(groups), formula_contains=formula,
    )


def _materials(loaded: common.Loaded, samples: np.ndarray) -> None:
    table = _all_samples_table(loaded.key, loaded.dataset).iloc[samples]
    st.dataframe(table, hide_index=True, height=420, column_config={
        "p_topological": st.column_config.ProgressColumn(
            "p_topological", help="Exact posterior of the demo generator", min_value=0.0, max_value=1.0, format="%.2f"),
    })
    common.download_csv(table, "materials", loaded, label=f"Download these {len(table):,} rows as CSV")


def _broadening_note(symbol: str) -> str:
    """Why a heavy element's spectrum looks featureless: its K core hole is short-lived."""
    width = k_core_hole_width(symbol)
    if width < BROAD_CORE_HOLE_EV:
        return ""
    return (f" The {symbol} K edge lies at {k_edge_energy(symbol):,.0f} eV, where the core hole lives so briefly "
            f"that it broadens every feature by about {width:.0f} eV (its lifetime width, xraydb): within the "
            f"75 eV window the spectrum is a smooth slope, for real materials as for these.")


def _drawn_rows(dataset: XanesDataset, element_rows: np.ndarray, limit: int, highlight: int | None) -> np.ndarray:
    """A fixed random subset of the element's rows, always holding the highlighted material's row."""
    drawn = np.random.default_rng(0).choice(element_rows, size=min(limit, element_rows.size), replace=False)
    if highlight is not None:
        drawn = np.union1d(drawn, element_rows[dataset.sample_index[element_rows] == highlight])
    return np.sort(drawn)


def _spectra(loaded: common.Loaded, samples: np.ndarray) -> None:
    dataset = loaded.dataset
    rows = dataset.rows_for_samples(samples)
    channels, counts = np.unique(dataset.channel[rows], return_counts=True)
    if channels.size == 0:
        st.info("No spectra in the selection.")
        return
    options = [CHANNELS[c] for c in channels[np.argsort(-counts, kind="stable")]]
    left, middle, right = st.columns([1, 2, 2])
    symbol = left.selectbox("Element", options, key="spectra_element",
                            format_func=lambda s: f"{s} ({int(counts[channels == CHANNELS.index(s)][0])} spectra)")
    limit = middle.slider("Most spectra drawn", 5, MAX_SPECTRA_LIMIT, MAX_SPECTRA_DEFAULT, step=5, key="spectra_limit")
    element_rows = rows[dataset.channel[rows] == CHANNELS.index(symbol)]
    meta = dataset.metadata
    highlight = right.selectbox("Highlight one material", dataset.sample_index[element_rows].tolist(), index=None,
                                key="spectra_highlight", placeholder="none",
                                format_func=lambda i: f"{meta.at[i, 'formula']} ({meta.at[i, 'sample_id']})")
    means, relative = st.columns(2)
    class_means = means.toggle("Class means", key="spectra_means", help="Mean spectrum of each class, drawn bold.")
    edge = k_edge_energy(symbol) if relative.toggle("Energy relative to the K edge (E − E0)", key="spectra_relative") \
        else None
    drawn = _drawn_rows(dataset, element_rows, limit, highlight)
    st.caption(f"Drawing {drawn.size} of {element_rows.size} {symbol} K-edge spectra in the selection"
               + (" (a fixed random subset; raise the limit to see more)" if drawn.size < element_rows.size else "")
               + "; topological spectra are drawn over trivial ones." + _broadening_note(symbol))
    samples_drawn = dataset.sample_index[drawn]
    names = meta["formula"].to_numpy()[samples_drawn] + " (" + meta["sample_id"].to_numpy()[samples_drawn] + ")"
    fig = dataset_figures.spectra_overlay(
        dataset.grids[CHANNELS.index(symbol)], dataset.spectra[drawn], dataset.labels[samples_drawn], names,
        title=f"{symbol} K-edge XANES of the selected materials", class_means=class_means, edge=edge,
        highlight=None if highlight is None else int(np.flatnonzero(samples_drawn == highlight)[0]))
    common.show_figure(fig, f"spectra_{symbol}", loaded)


def _overview_section(loaded: common.Loaded) -> None:
    counts, by_n, balance = _overview(loaded.key, loaded.dataset)
    st.caption("Whole dataset, independent of the filters. A material counts once for each absorbing element it contains.")
    for fig, name in zip(count_periodic_tables(counts), ("ptable_topological", "ptable_trivial", "ptable_ratio")):
        common.show_figure(fig, name, loaded)
    common.download_csv(counts, "element_class_counts", loaded, label="Download per-element counts as CSV")
    left, right = st.columns([2, 1])
    with left:
        common.show_figure(dataset_figures.element_count_bars(by_n), "element_count", loaded)
    with right:
        st.markdown("**Materials by number of absorbing elements** (paper Table 1)")
        st.dataframe(by_n, hide_index=True, width="stretch")
        common.download_csv(by_n, "element_count_table", loaded)
    common.show_figure(dataset_figures.split_balance_bars(balance), "split_balance", loaded)
    common.download_csv(balance, "split_balance", loaded, label="Download split balance as CSV")


loaded = common.current()
common.page_header("Dataset browser", loaded, "Filter materials, compare their spectra, see how the dataset is built.")
with st.expander("Filters", expanded=True, icon=":material/filter_alt:"):
    selection = _filters(loaded.dataset)
with common.user_errors():
    selected = browse.filter_samples(loaded.dataset, selection)
    st.markdown(f"**{selected.size:,}** of {loaded.dataset.n_samples:,} materials match the filters.")
    materials_tab, spectra_tab, families_tab, overview_tab = st.tabs(["Materials", "Spectra", "Families",
                                                                       "Dataset overview"])
    with materials_tab:
        _materials(loaded, selected)
    with spectra_tab:
        _spectra(loaded, selected)
    with families_tab:
        dataset_families.families_tab(loaded, selected)
    with overview_tab:
        _overview_section(loaded)
