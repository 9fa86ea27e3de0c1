"""Predict: is a material topological? Its K-edge spectra (uploaded, or a dataset material) through
a trained CNN run, with the evidence: spectra against the training data, each element's
contribution, the nearest training materials, how far the answer can be trusted (alignment,
similarity to the training spectra, applicability domain) and, for uploads, the dataset spectra
that look most like each file.

The page is a view over :class:`xanes_core.analysis.prediction.Predictor` (loaded once per run and held in
``st.cache_resource``) and :mod:`xanes_core.io.uploads`. Spectra are shown as soon as they
are read, before any run exists, so a person can check the inputs while a quick model trains.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from pages import common, predict_upload
from xanes_core.analysis.alignment import on_grid
from xanes_core.analysis.attribution import MaterialAttribution
from xanes_core.analysis.batch import predict_archive
from xanes_core.analysis.contributions import DEFINITIONS as CONTRIBUTION_DEFINITIONS
from xanes_core.analysis.indicators import signal_ranges
from xanes_core.analysis.materials import (
    ElementSpectrum,
    MaterialInput,
    material_from_dataset,
    prepare_material,
)
from xanes_core.analysis.matching import SpectrumLibrary
from xanes_core.analysis.prediction import Prediction, Predictor
from xanes_core.analysis.symmetry_contribution import DEFINITION as SYMMETRY_DEFINITION
from xanes_core.data import browse
from xanes_core.data.dataset import CLASS_NAMES, LABEL_NAMES, XanesDataset
from xanes_core.data.reference import EnergyReference
from xanes_core.data.symmetry import symmetry_info
from xanes_core.learn import runs
from xanes_core.learn.binding import STATE_LABELS
from xanes_core.learn.config import BASELINE_TYPES, CNN_TYPES, TrainingConfig
from xanes_core.paths import datasets_root
from xanes_core.viz import attribution as attribution_figures
from xanes_core.viz import prediction as prediction_figures

SOURCES = ("Material from the dataset", "Upload spectrum files", "Batch: zip + manifest")
# A quick model: the paper's symmetry CNN, few epochs and no shift augmentation (about 20 s on
# the default demo with 2 CPU cores); the Training page trains the full recipe.
QUICK = dict(model="symmetry", epochs=10, patience=3, augment=False)
_POLL_S = 1.0
NORMALIZATION_NOTE = ("Measured spectra are normalized as in Athena (pre-edge line removed, edge step set "
                      "to 1 at E0) to match the FEFF-computed training spectra; computed spectra keep their scale.")
ALIGN_HELP = ("Move each uploaded spectrum in energy so that its edge lines up with the training spectra of its "
              "element (edge position, then cross-correlation; up to ±50 eV). A measured edge sits near the "
              "tabulated energy, a FEFF one 10-25 eV above it. Dataset materials are never moved.")
TRUST_NOTE = ("Similarity: smoothed correlation with the nearest training spectrum of the element after alignment. "
              "Below the element's threshold (the 1st percentile of the training spectra's own nearest-neighbour "
              "similarity) the spectrum lies outside what the model was trained on.")
N_MATCHES = 5
ATTRIBUTION_NOTE = ("Integrated gradients from the class-neutral spectra (elements and space group kept): red where "
                    "this spectrum pushes towards topological, blue towards trivial, in p(topological) per grid point; "
                    "over all elements they add up to the spectra's whole effect. Dotted: the element's mean "
                    "training spectrum of each class. Energies relative to E0 of the element's class-neutral "
                    "training spectrum (the tabulated K edge where that edge is not on the grid).")


@st.cache_resource(show_spinner="Loading the model and its training-set embedding…", max_entries=4)
def _predictor(run_dir: str, dataset_key: str | None, dataset_state: str, _dataset: XanesDataset | None) -> Predictor:
    """``dataset_key`` names ``_dataset`` (the loaded current dataset, when it is the run's);
    ``dataset_state`` (whether the run's dataset is still the version it saw) only keys the cache."""
    return Predictor(run_dir, dataset=_dataset)


@st.cache_data(show_spinner=False, max_entries=256)
def _sample_prediction(run_dir: str, dataset_key: str, _predictor: Predictor, _dataset: XanesDataset,
                       sample: int) -> Prediction:
    """A dataset material's prediction, kept so that moving other widgets does not call the model."""
    return _predictor.predict_sample(_dataset, sample)


@st.cache_resource(show_spinner="Preparing the dataset's spectra for matching…", max_entries=2)
def _library(dataset_key: str, _dataset: XanesDataset) -> SpectrumLibrary:
    return SpectrumLibrary(_dataset)


@st.cache_data(show_spinner=False, max_entries=64)
def _bands(key: str, _dataset: XanesDataset, element: str) -> list[prediction_figures.ClassBand]:
    return prediction_figures.training_bands(_dataset, element)


def _run_label(run: runs.RunSummary) -> str:
    dataset = Path(run.dataset)
    score = f" · balanced accuracy {run.balanced_accuracy:.2f}" if run.balanced_accuracy is not None else ""
    demo = f" ({common.DEMO_LABEL})" if dataset.name == common.DEMO_NAME else ""
    state = "" if run.dataset_state == "same" else f", {STATE_LABELS[run.dataset_state]}"
    return f"{run.run_id} · {run.model}{score} · dataset {dataset.name}{demo}{state}"


def _choose_run(loaded: common.Loaded) -> Predictor | None:
    """The run that predicts (completed CNN runs, the current dataset's first), or None."""
    finished = runs.list_runs(status="completed")
    usable = [run for run in finished if run.model in CNN_TYPES and run.task == "binary"]
    baselines = [run for run in finished if run.model in BASELINE_TYPES]
    if baselines:
        st.caption(f"{len(baselines)} baseline run(s) ({', '.join(sorted({r.model for r in baselines}))}) are not "
                   "listed: baselines score whole dataset splits; predicting from spectra needs a CNN run.")
    three_class = sum(run.model in CNN_TYPES and run.task != "binary" for run in finished)
    if three_class:
        st.caption(f"{three_class} three-class run(s) are not listed: this page shows p(topological) at a threshold; "
                   "their per-class scores are on the Results page.")
    if not usable:
        _quick_training(loaded)
        return None
    here = {run.run_dir for run in runs.list_runs(dataset=datasets_root() / loaded.name, status="completed")}
    usable.sort(key=lambda run: run.run_dir not in here)  # stable: newest first within each
    labels = {run.run_dir: _run_label(run) for run in usable}
    run_dir = st.selectbox("Run that predicts", list(labels), format_func=labels.get, key="predict_run",
                           help="Completed CNN runs (symmetry or core) from the Training page or the CLI.")
    same = run_dir in here
    with common.user_errors():
        state = next(run.dataset_state for run in usable if run.run_dir == run_dir)
        return _predictor(run_dir, loaded.key if same else None, state, loaded.dataset if same else None)
    return None


def _quick_training(loaded: common.Loaded) -> None:
    """No CNN run yet: one button trains a quick one in the background; progress polls."""
    trainer = common.trainers().get(_quick_key(loaded.name))
    snapshot = trainer.state.snapshot() if trainer is not None else None
    if snapshot is not None and not snapshot.finished:
        st.fragment(run_every=_POLL_S)(_quick_progress)(loaded.name)
        return
    st.info("No completed CNN run yet. Train a quick model on this dataset (a few epochs of the paper's "
            "symmetry CNN, in the background), or a full one on the Training page.", icon=":material/info:")
    if snapshot is not None and snapshot.status == "failed":
        st.error(f"The quick model failed: {snapshot.message}")
    if st.button("Train a quick model", type="primary", icon=":material/bolt:", key="predict_quick_train"):
        config = TrainingConfig(dataset=str(datasets_root() / loaded.name), **QUICK)
        common.trainers().start(config, loaded, key=_quick_key(loaded.name))
        st.rerun()


def _quick_key(name: str) -> str:
    """One quick model per dataset at a time: two sessions clicking at once start one run."""
    return f"quick:{name}"


def _quick_progress(name: str) -> None:
    snapshot = common.trainers().get(_quick_key(name)).state.snapshot()
    if snapshot.finished:
        st.rerun()  # the whole page: the new run appears in the chooser
    st.progress(snapshot.fraction_done,
                text=f"Training a quick model: epoch {snapshot.epoch} of {snapshot.epochs or '…'} · "
                     f"{snapshot.message}")


@st.cache_data(show_spinner="Reading the dataset's formulas…", max_entries=4)
def _formula_keys(key: str, _dataset: XanesDataset) -> list[str | None]:
    """Every material's reduced formula, once per dataset (the exact search compares these)."""
    return [browse.reduced_formula(f) for f in _dataset.metadata["formula"]]


def _search(loaded: common.Loaded, samples: list[int], split: str) -> list[int]:
    """The split's materials with exactly the typed composition, else the closest formulas (said so)."""
    query = st.text_input("Formula (exact composition, e.g. Bi2Se3)", key="predict_formula",
                          placeholder="all materials of the split")
    if not query.strip():
        return samples
    formulas = loaded.dataset.metadata["formula"].to_numpy()[samples].tolist()
    keys = _formula_keys(loaded.key, loaded.dataset)
    found, exact = browse.find_formula(formulas, query, keys=[keys[i] for i in samples])
    if not exact:
        st.caption(f"No {split} material has exactly the composition {query.strip()}"
                   + ("; closest formulas (fuzzy match):" if found.size else ", nor a similar formula."))
    return [samples[i] for i in found]


def _dataset_material(loaded: common.Loaded) -> tuple[MaterialInput, int]:
    """A material picked from a split of the current dataset (default: test, unseen in training)."""
    dataset = loaded.dataset
    meta = dataset.metadata
    left, middle, right = st.columns([1, 1, 2])
    split = left.segmented_control("Split", ("test", "validation", "train"), default="test", key="predict_split",
                                   required=True, help="Test materials were not used to train or select the model.")
    samples = sorted(dataset.split_indices(split).tolist(), key=lambda i: (meta.at[i, "formula"], i))
    if not samples:
        st.info(f"The {split} split of this dataset is empty.")
        st.stop()
    with middle:
        samples = _search(loaded, samples, split)
    if not samples:
        st.stop()
    several = [i for i in samples if len(meta.at[i, "elements"]) > 1]
    index = right.selectbox(
        f"Material ({len(samples):,} in the {split} split)", samples, key="predict_sample",
        index=samples.index(several[0]) if several else 0,
        format_func=lambda i: f"{meta.at[i, 'formula']} · {meta.at[i, 'sample_id']}")
    info = symmetry_info(int(meta.at[index, "space_group"]))
    st.caption(f"Dataset class: **{LABEL_NAMES[int(meta.at[index, 'label'])]}** · "
               f"space group {info.space_group} ({info.symbol}, {info.crystal_system}), from the dataset.")
    return material_from_dataset(dataset, index), index


def _show_spectra(loaded: common.Loaded, entries) -> None:
    """Each spectrum on its element's grid (as the model saw it: aligned) against the training
    bands, and raw vs normalized for measured files; two figures per row so that a many-element
    material stays on one screen."""
    st.subheader("Spectra")
    st.caption(f"Training spectra of **{loaded.name}** (training split) as bands by class. {NORMALIZATION_NOTE}")
    figures = []
    for entry in entries:
        bands = _bands(loaded.key, loaded.dataset, entry.element)
        figures.append((prediction_figures.spectrum_vs_training(entry, bands), f"predict_{entry.element}"))
        if entry.normalized is not None and entry.normalized.method != "as computed":
            figures.append((prediction_figures.raw_and_normalized(entry.normalized, entry.name),
                            f"predict_{entry.element}_normalization"))
    for start in range(0, len(figures), 2):
        for column, (fig, name) in zip(st.columns(2), figures[start:start + 2]):
            with column:
                common.show_figure(fig, name, loaded)


def _verdict(prediction: Prediction, true_label: str | None) -> None:
    """A dataset material predicted against its class is flagged where the answer is read."""
    text = f"Predicted **{prediction.label}** at the run's threshold {prediction.threshold:.2f}."
    if true_label is not None and true_label != prediction.label:
        st.badge("wrong prediction", icon=":material/close:", color="red")
        text += f" The dataset says **{true_label}**."
    elif true_label is not None:
        st.badge("agrees with the dataset", icon=":material/check:", color="green")
    st.markdown(text)


def _contributions(loaded: common.Loaded, prediction: Prediction) -> None:
    """Each element's spectrum and presence effects and the space group's own contribution."""
    st.subheader("What each spectrum, each element's presence and the space group contribute")
    st.caption(" ".join([CONTRIBUTION_DEFINITIONS] + ([SYMMETRY_DEFINITION] if prediction.symmetry else [])))
    if prediction.contributions_note:
        st.caption(prediction.contributions_note)
    common.show_figure(prediction_figures.contribution_bars(prediction.contributions, prediction.symmetry),
                       "predict_contributions", loaded)
    rows = [{"input": e, **c.to_dict()} for e, c in prediction.contributions.items()]
    if prediction.symmetry is not None:
        rows.append({"input": f"space group {prediction.symmetry.space_group}",
                     "p_without": prediction.symmetry.p_unknown, "delta": prediction.symmetry.delta})
    common.download_csv(pd.DataFrame(rows), "predict_contributions", loaded, label="Download contributions as CSV")


def _show_prediction(loaded: common.Loaded, prediction: Prediction, reference: EnergyReference,
                     true_label: str | None = None) -> None:
    st.subheader("Probability")
    trusted = prediction.in_domain is not False
    metric, gauge = st.columns([1, 3], vertical_alignment="center")
    if trusted:
        metric.metric("p(topological)", f"{prediction.p_topological:.1%}",
                      help=f"Model output of run {Path(prediction.run_dir).name} ({prediction.model}).")
    else:
        metric.markdown(f"p(topological)\n## :gray[{prediction.p_topological:.1%}]")
        metric.caption("Not to be trusted: outside the training data (" + "; ".join(prediction.domain_reasons) + ").")
    if prediction.p_interval is not None:
        low, high = prediction.p_interval
        metric.caption(f"Interval {low:.1%} to {high:.1%}: the lowest and highest of the run's CNNs "
                       f"(standard deviation {prediction.uncertainty:.3f}).")
    with metric:
        _verdict(prediction, true_label)
    with gauge:
        common.show_figure(prediction_figures.probability_gauge(prediction.p_topological, prediction.threshold,
                                                                trusted, prediction.p_interval),
                           "predict_probability", loaded)
    _show_trust(prediction, reference)
    _contributions(loaded, prediction)
    st.subheader("Nearest training materials")
    if prediction.nearest:
        st.caption(f"Distance in the {prediction.nearest_space}.")
        table = pd.DataFrame([{"sample_id": n.sample_id, "formula": n.formula, "class": n.label,
                               "space_group": n.space_group, "distance": n.distance} for n in prediction.nearest])
        st.dataframe(table, hide_index=True, column_config={"distance": st.column_config.NumberColumn(format="%.3f")})
        common.download_csv(table, "predict_nearest", loaded, label="Download nearest materials as CSV")


@st.cache_data(show_spinner="Attributing the prediction over energy…", max_entries=64)
def _sample_attribution(run_dir: str, dataset_key: str, sample: int, _predictor: Predictor,
                        _prediction: Prediction) -> MaterialAttribution:
    return _predictor.attribution(_prediction)


def _show_attribution(loaded: common.Loaded, predictor: Predictor, prediction: Prediction, sample: int | None) -> None:
    """Where in energy each spectrum pushes; demo dataset materials with the generator's ranges shaded."""
    st.subheader("Where in energy the spectra push")
    if predictor.class_means is None:
        st.info(f"Not available for this run: {predictor.class_means_note}.", icon=":material/info:")
        return
    result = (_sample_attribution(str(predictor.run.run_dir), loaded.key, sample, predictor, prediction)
              if sample is not None else predictor.attribution(prediction))
    st.caption(f"{ATTRIBUTION_NOTE} Here: {result.p:.3f} with these spectra, {result.p_neutral:.3f} with class-neutral "
               "ones.")
    demo = sample is not None and loaded.dataset.is_demo
    elements = list(prediction.spectra)
    for start in range(0, len(elements), 2):
        for column, element in zip(st.columns(2), elements[start:start + 2]):
            entry = prediction.spectra[element]
            fig = attribution_figures.material_attribution_figure(
                element, entry.mu, result.values[element], predictor.class_means, entry.name,
                signal_ranges(element, demo))
            with column:
                common.show_figure(fig, f"predict_attribution_{element}", loaded)


def _show_trust(prediction: Prediction, reference: EnergyReference) -> None:
    """Per element: the alignment shift, the similarity to the training spectra, the threshold."""
    table = pd.DataFrame([{"element": e, "shift_ev": prediction.alignment.get(e, 0.0),
                           "similarity": prediction.similarity.get(e),
                           "threshold": reference.domain_threshold(e) if reference.seen(e) else None}
                          for e in prediction.elements])
    st.caption(TRUST_NOTE + (f" Missing spectra: {', '.join(prediction.missing_elements)}."
                             if prediction.missing_elements else ""))
    st.dataframe(table, hide_index=True, column_config={
        "shift_ev": st.column_config.NumberColumn("shift (eV)", format="%+.2f"),
        "similarity": st.column_config.NumberColumn(format="%.4f"),
        "threshold": st.column_config.NumberColumn(format="%.4f")})


def _show_matches(loaded: common.Loaded, material: MaterialInput, align: bool) -> None:
    """For each uploaded spectrum: its closest spectra in the current dataset, overlaid, and a table."""
    library = _library(loaded.key, loaded.dataset)
    st.subheader("Closest spectra in the dataset")
    st.caption(f"Each file against every spectrum of its element in **{loaded.name}** (the similarity of the "
               "trust table, after alignment); the file is drawn moved onto its best match.")
    for entry in material.spectra:
        if not library.has(entry.element):
            st.caption(f"{entry.element}: the dataset holds no {entry.element} spectrum to compare with.")
            continue
        _one_match(loaded, library, entry, align)


def _one_match(loaded: common.Loaded, library: SpectrumLibrary, entry: ElementSpectrum, align: bool) -> None:
    normalized = entry.normalized
    result = library.match(normalized.energy, normalized.mu_norm, entry.element, top=N_MATCHES, align=align)
    moved = on_grid(normalized.energy, normalized.mu_norm, entry.element, [result.matches[0].shift_ev])[0]
    figure = prediction_figures.matches_overlay(entry.element, entry.energy, moved, entry.name, result.matches,
                                                [library.spectrum_of(m, entry.element) for m in result.matches])
    common.show_figure(figure, f"predict_matches_{entry.element}", loaded)
    table = pd.DataFrame([{"sample_id": m.sample_id, "formula": m.formula, "class": m.label,
                           "similarity": m.similarity, "shift_ev": m.shift_ev} for m in result.matches])
    st.dataframe(table, hide_index=True, column_config={
        "similarity": st.column_config.NumberColumn(format="%.4f"),
        "shift_ev": st.column_config.NumberColumn("shift (eV)", format="%+.2f")})


@st.cache_data(show_spinner="Predicting every material of the manifest…", max_entries=8)
def _batch_table(run_dir: str, align: bool, _predictor: Predictor, archive: bytes, archive_name: str,
                 manifest: bytes | None, manifest_name: str | None) -> pd.DataFrame:
    """The batch's table, kept so that moving other widgets does not predict the batch again."""
    return predict_archive(_predictor, archive, archive_name, manifest, manifest_name, align=align).table


def _batch(loaded: common.Loaded, predictor: Predictor | None) -> None:
    """Many materials at once: the table of probabilities, labels, domain and warnings, as CSV."""
    upload = predict_upload.batch_upload()
    align = st.checkbox("Align spectra to the training data", value=True, key="predict_batch_align", help=ALIGN_HELP)
    if upload is None or predictor is None:
        return
    with common.user_errors():
        table = _batch_table(str(predictor.run.run_dir), align, predictor, *upload)
        failed = int(table["p_topological"].isna().sum())
        st.subheader("Predictions")
        st.caption(f"{len(table):,} materials: {len(table) - failed:,} predicted, {failed:,} failed (the reason is in "
                   "their warnings). in_domain false: outside the training data, do not trust the probability.")
        st.dataframe(table, hide_index=True, column_config={
            "p_topological": st.column_config.NumberColumn("p(topological)", format="%.3f")})
        common.download_csv(table, "predict_batch", loaded, label="Download the predictions as CSV")


def _predict(predictor: Predictor, loaded: common.Loaded, material: MaterialInput,
             sample: int | None, align: bool) -> Prediction | None:
    if sample is not None:
        return _sample_prediction(str(predictor.run.run_dir), loaded.key, predictor, loaded.dataset, sample)
    if material.space_group is None and predictor.needs_space_group:
        st.info("Give the material's space group (a number or a CIF) to get a prediction from this symmetry run.",
                icon=":material/info:")
        return None
    return predictor.predict_material(material, align=align)


loaded = common.current()
common.page_header("Predict", loaded, "Give a material's K-edge spectra (one per absorbing element) and, for a "
                   "symmetry run, its space group; a trained CNN says how likely it is to be topological.")
predictor = _choose_run(loaded)
source = st.segmented_control("Spectra from", SOURCES, default=SOURCES[0], key="predict_source", required=True)
material: MaterialInput | None = None
sample: int | None = None
align = True
with common.user_errors():
    if source == SOURCES[0]:
        material, sample = _dataset_material(loaded)
    elif source == SOURCES[2]:
        _batch(loaded, predictor)
    else:
        spectra = predict_upload.uploaded_spectra()
        space_group, cif = predict_upload.symmetry_input(predictor.needs_space_group if predictor else None)
        formula = st.text_input("Formula (optional)", key="predict_formula", placeholder="e.g. Bi2Se3",
                                help="Its elements without a spectrum are reported (the model was trained on "
                                     "materials with every element's spectrum).")
        align = st.checkbox("Align spectra to the training data", value=True, key="predict_align", help=ALIGN_HELP)
        if spectra:
            material = prepare_material(spectra, space_group, cif, formula.strip() or None)
if material is not None:
    prediction = None
    if predictor is not None:
        with common.user_errors():
            prediction = _predict(predictor, loaded, material, sample, align)
    for message in prediction.warnings if prediction else material.warnings:
        st.warning(message, icon=":material/warning:")
    if prediction is not None:
        truth = CLASS_NAMES.get(int(loaded.dataset.labels[sample])) if sample is not None else None  # None: unlabelled
        _show_prediction(loaded, prediction, predictor.energy_reference, truth)
        with common.user_errors():
            _show_attribution(loaded, predictor, prediction, sample)
    _show_spectra(loaded, prediction.spectra.values() if prediction else material.spectra)
    if sample is None:
        with common.user_errors():
            _show_matches(loaded, material, align)
