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
from xanes_core.errors import XanesError
from xanes_core.learn import runs
from xanes_core.learn.config import ModelConfig, TrainingConfig
from xanes_core.learn.progress import TrainingSnapshot
from xanes_core.learn.results import MODEL_NAMES
from xanes_core.paths import datasets_root
from xanes_core.viz import results as result_figures

if TYPE_CHECKING:  # TensorFlow loads with the first run, not with the page
    from xanes_core.learn.training import Trainer

_POLL_S = 1.0
_DEFAULTS = TrainingConfig(dataset="")
_ARCH = ModelConfig()


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


def _form(loaded: common.Loaded) -> None:
    """The configuration form; Start queues a background run and returns at once."""
    model = st.segmented_control("Model", list(MODEL_NAMES), default=_DEFAULTS.model, key="train_model",
                                 format_func=MODEL_NAMES.get, required=True)
    is_cnn = model not in ("svm", "elements")
    with st.form("train_form", border=True):
        left, middle, right = st.columns(3)
        settings = {
            "epochs": left.number_input("Epochs (most)", 1, 1000, _DEFAULTS.epochs, key="train_epochs",
                                        disabled=not is_cnn, help="Early stopping may end sooner."),
            "batch_size": middle.number_input("Batch size", 1, 4096, _DEFAULTS.batch_size, key="train_batch",
                                              disabled=not is_cnn),
            "learning_rate": right.number_input("Learning rate (Adam)", 1e-6, 1.0, _DEFAULTS.learning_rate,
                                                format="%.5f", step=1e-4, key="train_lr", disabled=not is_cnn),
            "patience": left.number_input("Early-stopping patience (epochs)", 1, 100, _DEFAULTS.patience,
                                          key="train_patience", disabled=not is_cnn,
                                          help="Stop after this many epochs without a lower validation loss."),
            "seed": middle.number_input("Random seed", 0, 2**31 - 1, _DEFAULTS.seed, key="train_seed"),
            "augment": right.checkbox("±1 eV shift augmentation (x3)", _DEFAULTS.augment, key="train_augment",
                                      disabled=not is_cnn),
        }
        architecture = _architecture() if is_cnn else {}
        submitted = st.form_submit_button("Start", type="primary", icon=":material/play_arrow:", key="train_start")
    if not submitted:
        return
    with common.user_errors():
        model_config = _model_config(architecture) if is_cnn else ModelConfig()
        config = TrainingConfig(dataset=str(datasets_root() / loaded.name), model=model,
                                model_config=model_config, **settings)
        common.trainers().start(config, loaded)
        st.rerun()  # redraw with the live panel polling


def _progress(snapshot: TrainingSnapshot) -> None:
    columns = st.columns(4)
    columns[0].metric("Epoch", f"{snapshot.epoch} / {snapshot.epochs}" if snapshot.epochs else "–")
    columns[1].metric("Batch", f"{snapshot.batch} / {snapshot.batches}" if snapshot.batches else "–")
    columns[2].metric("Time left (estimate)", _duration(snapshot.eta_s) if snapshot.status == "running" else "–",
                      help="From the mean time per batch so far; early stopping may end the run sooner.")
    columns[3].metric("Device", snapshot.device or _device())
    if snapshot.epochs and snapshot.batches:
        st.progress(snapshot.fraction_done, text=snapshot.message)
    else:
        st.caption(snapshot.message)


def _curves(snapshot: TrainingSnapshot, loaded: common.Loaded) -> None:
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


def _panel(trainer: "Trainer", loaded: common.Loaded) -> None:
    """One run: status line, progress, curves, and Stop while it is not finished."""
    snapshot = trainer.state.snapshot()
    header = st.container(horizontal=True, vertical_alignment="center")
    header.markdown(f"**{MODEL_NAMES.get(trainer.config.model, trainer.config.model)}** · "
                    f"`{trainer.run_dir.name}` · {snapshot.status}")
    if not snapshot.finished:
        stopping = trainer.cancel_requested
        if header.button("Stopping…" if stopping else "Stop", icon=":material/stop:",
                         key=f"stop-{trainer.run_dir.name}", disabled=stopping):
            trainer.cancel()
        _progress(snapshot)
    elif snapshot.status == "failed":
        st.error(snapshot.message)
    else:
        st.caption(snapshot.message)
    _curves(snapshot, loaded)


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
    table = pd.DataFrame([asdict(run) for run in runs.list_runs()])
    if table.empty:
        st.caption("No runs yet.")
        return
    table = table[["run_id", "model", "status", "balanced_accuracy", "created", "message", "run_dir"]]
    st.dataframe(table, hide_index=True, column_config={
        "balanced_accuracy": st.column_config.NumberColumn("balanced accuracy (test)", format="%.3f"),
    })
    common.download_csv(table, "runs", loaded, label="Download the run list as CSV")


loaded = common.current()
common.page_header("Training", loaded, "Train a classifier on this dataset's training split; "
                   "it keeps running in the background when you leave the page.")
st.caption(f"Training device: **{_device()}**. One run trains at a time; further runs wait in a queue.")
_form(loaded)
watched = tuple(t.run_dir.name for t in common.trainers().active())
st.fragment(run_every=_POLL_S if watched else None)(_live)(loaded, watched)
st.subheader("All runs")
_runs_table(loaded)
