"""What every page shares: the dataset chooser and loader, error display, downloads, demo labels.

Pages stay thin views over ``xanes_core``; the Streamlit-specific glue lives here once, so each
page gets the same caching, the same error wording and the same download behaviour.

Caching: the dataset is held with ``st.cache_resource`` (one object shared by all sessions,
keyed by folder and manifest time, so a rebuilt dataset is reloaded). Pages cache derived
tables with ``st.cache_data`` keyed by :attr:`Loaded.key`, passing the dataset itself as an
underscore argument that Streamlit does not hash. The background trainers of every page are
held in one ``st.cache_resource`` registry (:func:`trainers`), so each page sees every run.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from xanes_core.data.dataset import XanesDataset, list_datasets
from xanes_core.errors import DatasetError, XanesError
from xanes_core.paths import datasets_root, default_demo_path
from xanes_core.viz.style import DEMO_LABEL, label_demo

if TYPE_CHECKING:  # xanes_core.learn.training imports TensorFlow: only pages that train pay for it
    from xanes_core.learn.config import TrainingConfig
    from xanes_core.learn.studies import TuningRequest
    from xanes_core.learn.training import Trainer
    from xanes_core.learn.tuning import TuningJob

def _keep_keras_session() -> None:
    """Stop Streamlit from clearing Keras' session after every script run.

    Streamlit calls ``keras.backend.clear_session()`` at the end of each run (meant for apps that
    build a model inside the script). Here models train in a worker thread of the same process
    while the Training page polls once a second, so every poll reset TensorFlow's default graph
    and kernel cache and ran a full garbage collection under the training thread: a 2-epoch run
    took minutes instead of a minute (bench/bench_training_page.py). Nothing in a page script
    builds a Keras model, so there is nothing for the clean-up to do. A test checks that the
    hook is still where this expects it, so a Streamlit upgrade that moves it is noticed.
    """
    from streamlit.runtime.scriptrunner import script_runner

    script_runner._clean_problem_modules = lambda: None


_keep_keras_session()

DEMO_NAME = default_demo_path().name
_CHOICE_KEY = "dataset_name"
_SHELL_KEY = "_shell_ran"
_PNG_WIDTH = 1100
_APP_DIR = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Loaded:
    """The dataset in use, with the cache key that identifies this exact version of it."""

    name: str
    key: str
    dataset: XanesDataset


@st.cache_resource(show_spinner="Loading dataset…", max_entries=4)
def _load(path: str, stamp: int) -> XanesDataset:
    """``stamp`` (manifest mtime) is only part of the cache key: a rebuilt folder reloads."""
    return XanesDataset.load(path)


class TrainerRegistry:
    """Every Trainer and tuning job this server process started from any page, oldest first,
    shared by all sessions.

    One registry (not one per page) so that a run started on one page, e.g. Predict's quick
    model, shows its live progress on the Training page too. A ``key`` names a run that must not
    be started twice at once (two people clicking the same button start one run). Tuning jobs
    are keyed by study: one search per study and process.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started: list[Trainer] = []
        self._keyed: dict[str, Trainer] = {}
        self._tuning: dict[str, TuningJob] = {}

    def start(self, config: TrainingConfig, loaded: Loaded, key: str | None = None,
              origin: dict | None = None) -> Trainer:
        """Start a run in the background; with ``key``, the unfinished run of that key if there is one.
        ``origin``: where the settings came from, recorded in the run's config.json."""
        from xanes_core.learn.training import (
            Trainer,  # TensorFlow loads on the first run, not with every page
        )

        with self._lock:
            current = self._keyed.get(key) if key is not None else None
            if current is not None and not current.state.snapshot().finished:
                return current
            trainer = Trainer(config, dataset=loaded.dataset, origin=origin)
            self._started.append(trainer)
            if key is not None:
                self._keyed[key] = trainer
        return trainer.start()

    def get(self, key: str) -> Trainer | None:
        """The latest run started under ``key``, finished or not."""
        with self._lock:
            return self._keyed.get(key)

    def all(self) -> list[Trainer]:
        with self._lock:
            return list(self._started)

    def active(self) -> list[Trainer]:
        """Runs queued or running."""
        return [t for t in self.all() if not t.state.snapshot().finished]

    def start_tuning(self, request: TuningRequest, loaded: Loaded) -> TuningJob:
        """Search a study in the background; the study's unfinished job if it already has one."""
        from xanes_core.learn.tuning import TuningJob  # TensorFlow: on the first search

        with self._lock:
            current = self._tuning.get(request.study)
            if current is not None and not current.snapshot().finished:
                return current
            job = self._tuning[request.study] = TuningJob(request, dataset=loaded.dataset)
        return job.start()

    def tuning_jobs(self) -> list[TuningJob]:
        with self._lock:
            return list(self._tuning.values())


@st.cache_resource
def trainers() -> TrainerRegistry:
    """The process-wide registry (not session state: a run outlives page switches and reloads)."""
    return TrainerRegistry()


@st.cache_data(show_spinner="Clustering every element (once per dataset)…")
def _cluster_scores(key: str, _dataset: XanesDataset) -> pd.DataFrame:
    from xanes_core.analysis.clustering import cluster_all_elements

    return cluster_all_elements(_dataset)


def cluster_scores(loaded: Loaded) -> pd.DataFrame:
    """Per-element clustering scores of the dataset, computed once per dataset version (the
    Clustering page and the presentation share them)."""
    return _cluster_scores(loaded.key, loaded.dataset)


def _available() -> list[str]:
    names = [p.name for p in list_datasets(datasets_root())]
    return names if DEMO_NAME in names else [DEMO_NAME, *names]


def choose_dataset() -> None:
    """Sidebar chooser; builds the demo dataset (with a progress bar) the first time it is used."""
    st.session_state[_SHELL_KEY] = True
    names = _available()
    st.sidebar.selectbox(
        "Dataset", names, key=_CHOICE_KEY,
        index=names.index(DEMO_NAME),
        format_func=lambda n: f"{n} ({DEMO_LABEL})" if n == DEMO_NAME else n,
        help=f"Folders under {datasets_root()}. The demo is {DEMO_LABEL}, built on first use.",
    )
    if st.session_state[_CHOICE_KEY] == DEMO_NAME and not (default_demo_path() / "manifest.json").is_file():
        _build_demo()
    try:
        is_demo = _open(st.session_state[_CHOICE_KEY]).dataset.is_demo
    except XanesError:
        return  # the page reports it; the chooser must stay usable
    if is_demo:
        st.sidebar.badge(DEMO_LABEL, icon=":material/science:", color="orange")


def _build_demo() -> None:
    from xanes_core.data.demo import (
        ensure_demo,  # imported only on the one run that needs it
    )

    bar = st.progress(0.0, text="Building the synthetic demo dataset (first start only)…")
    with user_errors():
        ensure_demo(progress=lambda fraction, message: bar.progress(min(max(fraction, 0.0), 1.0), text=message))
    bar.empty()


def _open(name: str) -> Loaded:
    """Load a dataset by folder name (cached); DatasetError when it is missing or unusable."""
    path = datasets_root() / name
    try:
        stamp = (path / "manifest.json").stat().st_mtime_ns
    except FileNotFoundError:
        raise DatasetError(f"Dataset '{name}' is not in {datasets_root()}. Choose another in the sidebar.") from None
    return Loaded(name=name, key=f"{path}@{stamp}", dataset=_load(str(path), stamp))


def require_shell() -> None:
    """Make sure app.py's navigation, not Streamlit's legacy ``pages/`` mode, runs this page.

    Until some run calls ``st.navigation``, a Streamlit server with a ``pages/`` folder is in
    its old multipage mode: a first visit straight to ``/clustering`` runs this file alone,
    without app.py's sidebar, page config or page list. Registering any navigation switches
    the server to app.py's mode for good (registering this page keeps the URL resolving);
    the rerun then runs app.py, which routes back here. Known wart: Streamlit may show a
    dismissible "Page not found" notice during that one redirect.
    """
    if not st.session_state.get(_SHELL_KEY):
        st.navigation([st.Page(_calling_page())], position="hidden")
        st.rerun()


def _calling_page() -> str:
    """The page script (relative to app.py) whose module-level code called into this module."""
    frame = sys._getframe(1)
    while frame is not None:
        path = Path(frame.f_globals.get("__file__", "")).resolve()
        if path.parent == _APP_DIR / "pages" and path != Path(__file__).resolve():
            return str(path.relative_to(_APP_DIR))
        frame = frame.f_back
    raise RuntimeError("require_shell() must be called from a page script")


def current() -> Loaded:
    """The chosen dataset, loaded once per version; stops the page with st.error if unusable."""
    require_shell()
    try:
        return _open(st.session_state.get(_CHOICE_KEY, DEMO_NAME))
    except XanesError as exc:
        st.error(str(exc))
        st.stop()


def page_header(title: str, loaded: Loaded, intro: str) -> None:
    """Title, the demo label when the data are synthetic, and one line saying what the page shows."""
    st.title(title)
    if loaded.dataset.is_demo:
        st.badge(DEMO_LABEL, icon=":material/science:", color="orange",
                 help="Generated by xanes_core.data.demo from a documented model; not measured or computed spectra.")
    st.caption(f"Dataset: **{loaded.name}** · {loaded.dataset.n_samples:,} materials · "
               f"{len(loaded.dataset.spectra):,} spectra. {intro}")


@contextmanager
def user_errors() -> Iterator[None]:
    """Show a xanes_core error as st.error and skip the rest of the block (the page goes on)."""
    try:
        yield
    except XanesError as exc:
        st.error(str(exc))


def show_figure(fig: go.Figure, name: str, loaded: Loaded) -> None:
    """Plot with a PNG button at publication size (3x); demo figures carry the demo label.

    The label is drawn into the figure itself so that an exported PNG cannot lose it.
    """
    if loaded.dataset.is_demo:
        label_demo(fig)
    height = fig.layout.height or 450
    config = {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "scale": 3, "width": _PNG_WIDTH, "height": height,
                                 "filename": _file_stem(name, loaded)},
    }
    st.plotly_chart(fig, config=config, width="stretch")


def download_csv(table: pd.DataFrame, name: str, loaded: Loaded, label: str = "Download CSV") -> None:
    """A CSV download of exactly the table shown (file name says when it is demo data)."""
    st.download_button(label, table.to_csv(index=False).encode("utf-8"), file_name=f"{_file_stem(name, loaded)}.csv",
                       mime="text/csv", key=f"csv-{name}", icon=":material/download:")


def _file_stem(name: str, loaded: Loaded) -> str:
    prefix = "synthetic-demo_" if loaded.dataset.is_demo else f"{Path(loaded.name).name}_"
    return prefix + name
