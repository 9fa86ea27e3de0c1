"""Dataset browser, "Families" tab: materials of the same elements in different proportions
(:mod:`xanes_core.data.families`), the families that hold both classes first, one family's
members with their spectra overlaid per element and, with a run, its predictions.

The families follow the page's filters. A run's test-split predictions come from its saved
scores (no model); a family's members of every split are scored by the model when a run is
chosen (TensorFlow loads then), each with its split beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from pages import common
from xanes_core.analysis.families import member_probabilities, saved_test_predictions
from xanes_core.data.dataset import LABEL_NAMES, XanesDataset
from xanes_core.data.elements import CHANNELS
from xanes_core.data.families import family_members, family_table
from xanes_core.learn import runs
from xanes_core.learn.operating_point import saved_threshold
from xanes_core.learn.results import RunResults, load_results
from xanes_core.learn.run_settings import settings_stamp
from xanes_core.paths import datasets_root
from xanes_core.viz import dataset as dataset_figures

_NONE = "none"
NOTE = ("A family is every material made of the same elements (from its formula), in any proportions: the paper's "
        "suggested comparison of spectral and compositional signatures. Families holding both classes are the "
        "interesting ones: same elements, different topology.")
RUN_NOTE = ("Per family, the run's test-split members and how many it predicts right (saved test scores, at its "
            "operating point). Members of the training split were seen by the model: their probabilities say what "
            "it learnt, not how well it generalizes.")


@st.cache_data(show_spinner="Grouping materials into families…", max_entries=16)
def _families(key: str, _dataset: XanesDataset, selected: np.ndarray, run_dir: str | None, stamp: int) -> pd.DataFrame:
    """``stamp`` (the run's settings file time: its operating point) only keys the cache."""
    predicted = None if run_dir is None else saved_test_predictions(load_results(run_dir), _dataset)[1]
    return family_table(_dataset, selected, predicted)


@st.cache_resource(show_spinner="Loading the run's model…", max_entries=2)
def _loaded_run(run_dir: str) -> runs.LoadedRun:
    return runs.load_run(run_dir)


@st.cache_data(show_spinner=False, max_entries=64)
def _probabilities(key: str, run_dir: str, _dataset: XanesDataset, members: np.ndarray) -> np.ndarray:
    return member_probabilities(_loaded_run(run_dir), _dataset, members)


def _run_choice(loaded: common.Loaded) -> str | None:
    finished = [r for r in runs.list_runs(dataset=datasets_root() / loaded.name, status="completed")
                if r.dataset_state in ("same", "unverified")]
    usable = [r for r in finished if r.task == "binary"]
    if len(usable) < len(finished):
        st.caption(f"{len(finished) - len(usable)} three-class run(s) are not listed: families show p(topological) "
                   "at a threshold; their per-class scores are on the Results page.")
    labels = {r.run_dir: f"{r.run_id} · {r.model}" for r in usable}
    choice = st.selectbox("Predictions from run", [_NONE, *labels], key="families_run",
                          format_func=lambda d: "none" if d == _NONE else labels[d],
                          help="Completed runs trained on this version of the dataset.")
    return None if choice == _NONE else choice


def _members_table(loaded: common.Loaded, members: np.ndarray, run_dir: str | None) -> pd.DataFrame:
    meta = loaded.dataset.metadata.iloc[members]
    table = pd.DataFrame({"sample_id": meta["sample_id"].to_numpy(), "formula": meta["formula"].to_numpy(),
                          "class": meta["label"].map(LABEL_NAMES).to_numpy(),
                          "space_group": meta["space_group"].to_numpy(), "split": meta["split"].to_numpy()})
    if run_dir is not None:
        results: RunResults = load_results(run_dir)
        table["p_topological (run)"] = _probabilities(loaded.key, run_dir, loaded.dataset, members)
        cut = saved_threshold(results.settings, results.metrics)
        table["predicted"] = np.where(table["p_topological (run)"] >= cut,
                                      LABEL_NAMES[1], LABEL_NAMES[0])
    return table


def _spectra(loaded: common.Loaded, family: str, members: np.ndarray, table: pd.DataFrame) -> None:
    """Each absorbing element's spectra of the family's members, overlaid and coloured by class."""
    dataset = loaded.dataset
    rows = dataset.rows_for_samples(members)
    channels, counts = np.unique(dataset.channel[rows], return_counts=True)
    position = {int(s): k for k, s in enumerate(members)}
    names = table["formula"] + " (" + table["sample_id"] + ")"
    if "p_topological (run)" in table:
        names = names + table["p_topological (run)"].map(lambda p: f" · p = {p:.2f}")
    order = channels[np.argsort(-counts, kind="stable")]
    for start in range(0, order.size, 2):
        for column, channel in zip(st.columns(2), order[start:start + 2]):
            element_rows = rows[dataset.channel[rows] == channel]
            k = [position[int(s)] for s in dataset.sample_index[element_rows]]
            fig = dataset_figures.spectra_overlay(
                dataset.grids[channel], dataset.spectra[element_rows], dataset.labels[dataset.sample_index[element_rows]],
                names.to_numpy()[k], title=f"{CHANNELS[channel]} K edge: the {family} family", class_means=True,
                name_each=True)
            with column:
                common.show_figure(fig, f"family_{family}_{CHANNELS[channel]}", loaded)
    without = sorted(set(family.split("-")) - {CHANNELS[c] for c in channels})
    if without:
        st.caption(f"No {', '.join(without)} spectra in this dataset for these materials.")


def families_tab(loaded: common.Loaded, selected: np.ndarray) -> None:
    """The tab; a run that cannot give predictions is one st.error inside it (the page goes on)."""
    with common.user_errors():
        _show(loaded, selected)


def _show(loaded: common.Loaded, selected: np.ndarray) -> None:
    st.caption(NOTE)
    left, right = st.columns(2)
    with right:
        run_dir = _run_choice(loaded)
    both = left.toggle("Only families with both classes", value=True, key="families_both")
    stamp = settings_stamp(run_dir) if run_dir else 0
    table = _families(loaded.key, loaded.dataset, selected, run_dir, stamp)
    shown = table[table["both_classes"]] if both else table
    st.markdown(f"**{len(shown):,}** families ({len(table):,} of two or more materials among the selection).")
    if run_dir is not None:
        st.caption(RUN_NOTE)
    st.dataframe(shown, hide_index=True, height=320)
    common.download_csv(shown, "families", loaded, label="Download these families as CSV")
    if shown.empty:
        return
    family = st.selectbox("Family", shown["family"].tolist(), key="families_family",
                          format_func=lambda f: f"{f} ({int(shown.loc[shown['family'] == f, 'n_materials'].iloc[0])})")
    members = family_members(loaded.dataset, family, selected)
    members_table = _members_table(loaded, members, run_dir)
    st.dataframe(members_table, hide_index=True)
    common.download_csv(members_table, f"family_{family}", loaded, label="Download the members as CSV")
    _spectra(loaded, family, members, members_table)
