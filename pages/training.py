"""Training: configure a run, start it in the background, watch its curves live, stop it.

The :class:`~xanes_core.learn.training.Trainer` objects of this server process are kept in the shared
registry :func:`pages.common.trainers` (``st.cache_resource``), not in session state: a run keeps
going and stays visible when the user switches page or reloads the browser, and every session
sees every run, including Predict's quick model. The live panel polls while any run of the
registry is queued or running, whichever session started it. Pages only read the trainers'
locked state; the training thread never touches Streamlit. Runs started elsewhere (the CLI, an
earlier server) appear in the table, read from disk.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from pages import common
from xanes_core.data.preprocess import SCALES
from xanes_core.data.classes import TASKS
from xanes_core.errors import RunError, XanesError
from xanes_core.learn import runs
from xanes_core.learn.binding import STATE_LABELS
from xanes_core.learn.config import (
    BASELINE_TYPES,
    MAX_MEMBERS,
    ModelConfig,
    TrainingConfig,
)
from xanes_core.learn.progress import TrainingSnapshot
from xanes_core.learn.results import MODEL_NAMES
from xanes_core.learn.run_settings import (
    MAX_NAME,
    MAX_NOTE,
    RunSettings,
    read_settings,
    update_settings,
)
from xanes_core.paths import datasets_root
from xanes_core.viz import results as result_figures

if TYPE_CHECKING:  # TensorFlow loads with the first run, not with the page
    from xanes_core.learn.training import Trainer

_POLL_S = 1.0
TASK_NAMES = {"binary": "topological vs trivial", "three-class": "trivial / topological insulator / semimetal"}
_DEFAULTS = TrainingConfig(dataset="")
_ARCH = ModelConfig()
SCALE_NAMES = {"element": "one per element", "energy": "per element and energy (paper)"}
WEIGHTING_NAMES = {"class": "class balance", "paper": "class x element rarity (paper)", None: "none"}


@st.cache_resource
def _device() -> str:
    """Where a CNN would train now (GPU when TensorFlow sees one)."""
    from xanes_core.learn.classifiers import (
        select_device,  # TensorFlow: only when a panel needs it
    )

    return select_device()[1]


def _int_tuple(text: str, label: str, example: tuple[int, ...], fixed_length: bool = False) -> tuple[int, ...]:
    """'16, 32, 8' -> (16, 32, 8); a XanesError worded for the form when it is not that."""
    try:
        values = tuple(int(part) for part in text.replace(";", ",").split(",") if part.strip())
    except ValueError:
        values = ()
    if not values or min(values) < 1 or (fixed_length and len(values) != len(example)):
        count = f"{len(example)} " if fixed_length else ""
        raise XanesError(f"{label}: give {count}positive whole numbers separated by commas, "
                         f"e.g. {', '.join(map(str, example))}.")
    return values


def _model_config(architecture: dict) -> ModelConfig:
    """The form's architecture values as a ModelConfig (the two lists parsed)."""
    return ModelConfig(**{
        **architecture,
        "filters": _int_tuple(architecture["filters"], "Filters", _ARCH.filters),
        "dense_units": _int_tuple(architecture["dense_units"], "Dense units", _ARCH.dense_units, fixed_length=True),
    })


def _architecture() -> dict:
    """CNN hyperparameters (ModelConfig) as form widgets; values only, parsed on submit."""
    st.markdown("**Architecture** (shared-kernel CNN)")
    left, middle, right = st.columns(3)
    return {
        "filters": left.text_input("Filters", ", ".join(map(str, _ARCH.filters)), key="train_filters",
                                   help="Channels of each Conv1D + max-pool stage (kernels shared by all elements)."),
        "kernel_size": middle.number_input("Kernel size (grid points)", 1, 51, _ARCH.kernel_size, key="train_kernel"),
        "pool_size": right.number_input("Pool size", 1, 8, _ARCH.pool_size, key="train_pool"),
        "dense_units": left.text_input("Dense units", ", ".join(map(str, _ARCH.dense_units)), key="train_dense",
                                       help="Two dense layers after the encoder; dropout acts on the first."),
        "dropout": middle.number_input("Dropout", 0.0, 0.9, _ARCH.dropout, step=0.05, key="train_dropout"),
        "l2": right.number_input("L2 penalty", 0.0, 1.0, _ARCH.l2, step=1e-4, format="%.5f", key="train_l2"),
        "symmetry_units": left.number_input("Symmetry branch units", 1, 512, _ARCH.symmetry_units,
                                            key="train_symmetry_units", help="Dense layer over the 269 symmetry one-hots."),
        "head_units": middle.number_input("Head units", 1, 512, _ARCH.head_units, key="train_head_units",
                                          help="Dense layer after concatenation: the embedding of Fig. 3d."),
    }


def _cnn_settings() -> dict:
    """The training recipe of a CNN (what a baseline does not have)."""
    left, middle, right = st.columns(3)
    return {
        "epochs": left.number_input("Epochs (most)", 1, 1000, _DEFAULTS.epochs, key="train_epochs",
                                    help="Early stopping may end sooner."),
        "batch_size": middle.number_input("Batch size", 1, 4096, _DEFAULTS.batch_size, key="train_batch"),
        "learning_rate": right.number_input("Learning rate (Adam)", 1e-6, 1.0, _DEFAULTS.learning_rate,
                                            format="%.5f", step=1e-4, key="train_lr"),
        "patience": left.number_input("Early-stopping patience (epochs)", 1, 100, _DEFAULTS.patience,
                                      key="train_patience", help="Stop after this many epochs without a lower validation loss."),
        "seed": middle.number_input("Random seed", 0, 2**31 - 1, _DEFAULTS.seed, key="train_seed"),
        "augment": right.checkbox("±1 eV shift augmentation (x3)", _DEFAULTS.augment, key="train_augment"),
        "ensemble": left.number_input("CNNs (ensemble)", 1, MAX_MEMBERS, 1, key="train_ensemble",
                                      help="1: one CNN, as in the paper. More: that many CNNs with seeds seed, seed+1, "
                                           "...; their mean probability is calibrated on the validation split and their "
                                           "spread is its uncertainty. On the CPU they train side by side, one per core (five "
                                           "take about 2.3x one CNN on 2 cores); on a GPU one after another."),
        "task": middle.selectbox("Task", TASKS, key="train_task", format_func=TASK_NAMES.get,
                                 help="Three classes need fine classes in the dataset (the demo, or a Materials "
                                      "Project build from a Materiae or TQC catalogue)."),
    }


def _departures(is_cnn: bool) -> tuple[dict, dict]:
    """The settings where this tool departs from the paper (README, "Departures from the paper"),
    each able to restore the paper's choice: (training settings, architecture settings)."""
    st.markdown("**Departures from the paper** (the help of each says what restores the paper)")
    left, middle, right = st.columns(3)
    recipe = {
        "standardizer_scale": left.selectbox(
            "Standardizer scale", SCALES, index=SCALES.index(_DEFAULTS.standardizer_scale), key="train_scale",
            format_func=SCALE_NAMES.get, help="One scale per element keeps the relative size of spectral features; "
                                              "the paper: one per element and energy point."),
        "rarity_clip": middle.number_input(
            "Rarity-weight clip (0: none)", 0.0, 1000.0, float(_DEFAULTS.rarity_clip or 0.0), step=1.0,
            key="train_rarity_clip", help="Where element-rarity weights are used (the paper's sample weights, and "
                                          "always for the baselines) they are clipped to [1/c, c] so that one rare "
                                          "element cannot dominate an epoch; the paper: 0 (no clip)."),
    }
    if not is_cnn:
        return recipe, {}
    recipe["weighting"] = right.selectbox(
        "Sample weights", list(WEIGHTING_NAMES), index=list(WEIGHTING_NAMES).index(_DEFAULTS.weighting),
        key="train_weighting", format_func=WEIGHTING_NAMES.get,
        help="Class balance (chosen on validation), or class x element rarity (the paper), or none.")
    recipe["label_smoothing"] = right.number_input(
        "Label smoothing", 0.0, 0.5, _DEFAULTS.label_smoothing, step=0.05, key="train_smoothing",
        help="Targets move this far towards 0.5 (keeps early stopping from restoring an over-confident first "
             "epoch); the paper: 0.")
    architecture = {
        "slot_units": left.number_input(
            "Shared slot layer units (0: none)", 0, 256, _ARCH.slot_units, key="train_slot_units",
            help="A dense layer shared by all 81 element slots before they are flattened; the paper: 0."),
        "presence_input": middle.checkbox(
            "Presence mask into the dense layers", _ARCH.presence_input, key="train_presence",
            help="The 81 values saying which elements a material has, beside its slots; the paper: off."),
    }
    return recipe, architecture


def _naming() -> tuple[str, str]:
    """A name and a note for the run (shown on Results, in the report and the figure pack)."""
    left, right = st.columns([1, 2])
    name = left.text_input("Run name (optional)", key="train_name", max_chars=MAX_NAME,
                           placeholder="e.g. paper recipe, seed 1")
    note = right.text_input("Note (optional)", key="train_note", max_chars=MAX_NOTE,
                            placeholder="what this run is for")
    return name, note


def _form(loaded: common.Loaded) -> None:
    """The configuration form; only the fields of the chosen model. Start queues a background run."""
    model = st.segmented_control("Model", list(MODEL_NAMES), default=_DEFAULTS.model, key="train_model",
                                 format_func=MODEL_NAMES.get, required=True)
    is_cnn = model not in ("svm", "elements")
    with st.form("train_form", border=True):
        name, note = _naming()
        if is_cnn:
            settings, architecture = _cnn_settings(), _architecture()
        else:
            settings, architecture = {}, {}
            st.caption(f"The {MODEL_NAMES[model]} baseline is fitted in one step on the training split (no epochs, "
                       "no curves) and scored on the test split; it shares the standardizer and weights below.")
        recipe, departures = _departures(is_cnn)
        submitted = st.form_submit_button("Start", type="primary", icon=":material/play_arrow:", key="train_start")
    if not submitted:
        return
    with common.user_errors():
        model_config = _model_config({**architecture, **departures}) if is_cnn else ModelConfig()
        recipe["rarity_clip"] = recipe["rarity_clip"] or None  # 0: no clip, the paper's weights
        if settings.get("ensemble") == 1:
            settings["ensemble"] = None  # one CNN: the paper's, uncalibrated
        config = TrainingConfig(dataset=str(datasets_root() / loaded.name), model=model, model_config=model_config,
                                **settings, **recipe)
        trainer = common.trainers().start(config, loaded)
        if name.strip() or note.strip():
            update_settings(trainer.run_dir, name=name, note=note)
        st.rerun()  # redraw with the live panel polling


def _time_left(snapshot: TrainingSnapshot) -> str:
    """The estimate, as a range until the first epoch has been timed (see xanes_core.learn.eta)."""
    if snapshot.status != "running":
        return "–"
    if snapshot.eta_s is not None:
        return _duration(snapshot.eta_s)
    if snapshot.eta_low_s is not None:
        return f"{_duration(snapshot.eta_low_s)} – {_duration(snapshot.eta_high_s)}"
    return "estimating…"


def _progress(snapshot: TrainingSnapshot) -> None:
    columns = st.columns(4)
    together = f", {snapshot.side_by_side} side by side" if snapshot.side_by_side > 1 else ""
    member = f" (CNN {snapshot.member} of {snapshot.members}{together})" if snapshot.members else ""
    columns[0].metric(f"Epoch{member}", f"{snapshot.epoch} / {snapshot.epochs}" if snapshot.epochs else "–")
    columns[1].metric("Batch", f"{snapshot.batch} / {snapshot.batches}" if snapshot.batches else "–")
    columns[2].metric("Time left", _time_left(snapshot),
                      help="Training time left for the planned epochs, from measured batch and epoch times; a range "
                           "until the first epoch has been timed. Early stopping may end the run sooner.")
    columns[3].metric("Device", snapshot.device or _device())
    if snapshot.epochs and snapshot.batches:
        st.progress(snapshot.fraction_done, text=snapshot.message)
    else:
        st.caption(snapshot.message)


def _curves(snapshot: TrainingSnapshot, model: str, loaded: common.Loaded) -> None:
    if model in BASELINE_TYPES:
        return  # fitted in one step: no curves to promise
    if not snapshot.history:
        st.caption("Loss and accuracy curves appear after the first epoch.")
        return
    name = Path(snapshot.run_dir).name
    left, right = st.columns(2)
    for column, quantity in ((left, "loss"), (right, "accuracy")):
        with column:
            common.show_figure(result_figures.history_curves(snapshot.history, quantity),
                               f"{name}_{quantity}", loaded)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "estimating…"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def _open_results(run_dir: str) -> None:
    st.session_state["results_run"] = run_dir  # the Results page opens on this run


def _finished(trainer: "Trainer", snapshot: TrainingSnapshot) -> None:
    """A completed run's test score and the way to its Results; a failure's message."""
    if snapshot.status == "failed":
        st.error(snapshot.message)
        return
    st.caption(snapshot.message)
    if snapshot.status != "completed":
        return
    test = runs.read_json(trainer.run_dir / runs.METRICS, default={}).get("test") or {}
    score, link = st.columns([2, 1], vertical_alignment="center")
    if test.get("balanced_accuracy") is not None:
        score.metric("Balanced accuracy (test)", f"{test['balanced_accuracy']:.3f}",
                     help=f"Topological recall {test['topological']['recall'] or 0:.3f}, precision "
                          f"{test['topological']['precision'] or 0:.3f}; at the paper's threshold 0.5 until "
                          "another is chosen on Results.")
    if link.button("Open in Results", icon=":material/analytics:", key=f"results-{trainer.run_dir.name}",
                   on_click=_open_results, args=(str(trainer.run_dir),)):
        st.switch_page("pages/results.py")


def _panel(trainer: "Trainer", loaded: common.Loaded) -> None:
    """One run: status line, progress, curves, and Stop while it is not finished."""
    snapshot = trainer.state.snapshot()
    header = st.container(horizontal=True, vertical_alignment="center")
    title = _settings_or_default(str(trainer.run_dir)).title(trainer.run_dir.name)
    header.markdown(f"**{MODEL_NAMES.get(trainer.config.model, trainer.config.model)}** · "
                    f"{title} · {snapshot.status}")
    if not snapshot.finished:
        stopping = trainer.cancel_requested
        if header.button("Stopping…" if stopping else "Stop", icon=":material/stop:",
                         key=f"stop-{trainer.run_dir.name}", disabled=stopping):
            trainer.cancel()
        _progress(snapshot)
    else:
        _finished(trainer, snapshot)
    _curves(snapshot, trainer.config.model, loaded)


def _live(loaded: common.Loaded, watched: tuple[str, ...]) -> None:
    """Polled while runs are active; a full rerun when the set of active runs changes."""
    trainers = common.trainers()
    active = trainers.active()
    if tuple(t.run_dir.name for t in active) != watched:
        st.rerun()
    shown = active or trainers.all()[-1:]
    st.subheader("Live" if active else "Last run started on this server")
    if not shown:
        st.caption("No run in progress. Runs started here show their progress and curves live.")
    for trainer in shown:
        with st.container(border=True):
            _panel(trainer, loaded)


def _runs_table(loaded: common.Loaded) -> None:
    """Every run, newest first: name, model, status, score; the folder id last (it is long)."""
    table = pd.DataFrame([asdict(run) for run in runs.list_runs()])
    if table.empty:
        st.caption("No runs yet.")
        return
    table["name"] = [_settings_or_default(d).name for d in table["run_dir"]]
    table["note"] = [_settings_or_default(d).note for d in table["run_dir"]]
    table["model"] = table["model"].map(lambda m: MODEL_NAMES.get(m, m))
    table["dataset"] = table["dataset"].map(lambda d: Path(d).name)
    table["dataset_state"] = table["dataset_state"].map(STATE_LABELS)
    table = table[["name", "model", "status", "balanced_accuracy", "dataset", "dataset_state", "created", "note",
                   "message", "run_id"]]
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "balanced_accuracy": st.column_config.NumberColumn("balanced accuracy (test)", format="%.3f", width="small"),
        "status": st.column_config.TextColumn(width="small"), "created": st.column_config.TextColumn(width="small"),
        "message": st.column_config.TextColumn(width="medium"), "note": st.column_config.TextColumn(width="medium"),
        "dataset_state": st.column_config.TextColumn(
            "dataset now", width="small", help="Whether the dataset folder still holds the exact version the run "
                                               "was trained on (a changed or missing one never re-scores the run)."),
    })
    common.download_csv(table, "runs", loaded, label="Download the run list as CSV")


def _settings_or_default(run_dir: str) -> RunSettings:
    try:
        return read_settings(run_dir)
    except RunError:
        return RunSettings()


def _rename(loaded: common.Loaded) -> None:
    """Name or annotate any run (also those started from the CLI)."""
    listed = {run.run_dir: run for run in runs.list_runs()}
    if not listed:
        return
    with st.expander("Name or annotate a run", icon=":material/edit:"):
        run_dir = st.selectbox("Run", list(listed), key="rename_run",
                               format_func=lambda d: f"{listed[d].run_id} · {listed[d].model} · {listed[d].status}")
        current = _settings_or_default(run_dir)
        with st.form("rename_form", border=False):
            name = st.text_input("Name", current.name, max_chars=MAX_NAME, key=f"rename_name_{listed[run_dir].run_id}")
            note = st.text_area("Note", current.note, max_chars=MAX_NOTE, key=f"rename_note_{listed[run_dir].run_id}")
            if st.form_submit_button("Save", icon=":material/save:"):
                with common.user_errors():
                    update_settings(run_dir, name=name, note=note)
                    st.success("Saved.")


loaded = common.current()
common.page_header("Training", loaded, "Train a classifier on this dataset's training split; "
                   "it keeps running in the background when you leave the page.")
st.caption(f"Training device: **{_device()}**. One run trains at a time; further runs wait in a queue.")
_form(loaded)
watched = tuple(t.run_dir.name for t in common.trainers().active())
st.fragment(run_every=_POLL_S if watched else None)(_live)(loaded, watched)
st.subheader("All runs")
_runs_table(loaded)
_rename(loaded)
