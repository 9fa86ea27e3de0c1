"""Tuning: search the CNN's settings on the validation split with Optuna, watch the trials,
train the best configuration as a normal run.

A search runs in the background in the shared registry of :func:`pages.common.trainers` (one per
study and process, Stop ends it within one batch), and every trial takes the process's training
turn, so searches and training runs started here take turns. The trial table and figures are
read from the study's storage, so trials of other workers (``python -m xanes_core tune`` on
other machines pointed at the same database) appear too, with a note while they run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from pages import common
from xanes_core.errors import XanesError
from xanes_core.learn.studies import (
    OBJECTIVE,
    TuningRequest,
    best_training,
    load_study,
    other_workers,
    trials_table,
)
from xanes_core.learn.study_storage import masked, open_storage, study_names
from xanes_core.paths import datasets_root
from xanes_core.viz.tuning import study_figures

if TYPE_CHECKING:  # TensorFlow loads with the first search, not with the page
    from xanes_core.learn.tuning import TuningJob

_POLL_S = 2.0


def _form(loaded: common.Loaded) -> None:
    """Study, storage and budget; Start queues this process's worker for that study."""
    with st.form("tune_form", border=True):
        left, middle, right = st.columns(3)
        study = left.text_input("Study name", f"cnn-{loaded.name}", key="tune_study",
                                help="A new name starts a study; an existing one continues it.")
        n_trials = middle.number_input("Trials (this worker)", 1, 10_000, 20, key="tune_trials")
        minutes = right.number_input("Time budget (minutes, 0: none)", 0, 10_000, 0, key="tune_minutes",
                                     help="No new trial starts after this; the running one finishes.")
        seed = left.number_input("Training seed", 0, 2**31 - 1, None, key="tune_seed",
                                 placeholder="the study's (0 for a new study)")
        submitted = st.form_submit_button("Start or continue", type="primary", icon=":material/play_arrow:",
                                          key="tune_start")
    if not submitted:
        return
    with common.user_errors():
        request = TuningRequest(dataset=str(datasets_root() / loaded.name), study=study.strip(),
                                storage=st.session_state.get("tune_storage") or None, n_trials=int(n_trials),
                                timeout_s=minutes * 60 if minutes else None, seed=seed)
        common.trainers().start_tuning(request, loaded)
        st.session_state["tune_view"] = request.study
        st.session_state.pop("tune_view_choice", None)  # show the study just started
        st.rerun()


def _job(job: TuningJob) -> None:
    snapshot = job.snapshot()
    row = st.container(horizontal=True, vertical_alignment="center")
    row.markdown(f"**{job.request.study}** · this server's worker · {snapshot.status}")
    if not snapshot.finished:
        stopping = job.cancel_requested
        if row.button("Stopping…" if stopping else "Stop", icon=":material/stop:", disabled=stopping,
                      key=f"tune-stop-{job.request.study}"):
            job.cancel()
    (st.error if snapshot.status == "failed" else st.caption)(snapshot.message)


def _study_view(loaded: common.Loaded, name: str | None, storage: str | None) -> None:
    """Trials, figures and 'train the best' of one study, read from its storage."""
    if not name:
        st.caption("No study in this storage yet: start one above.")
        return
    with common.user_errors():
        study = load_study(name, storage)
        others = other_workers(study)
        if others:
            st.info(f"{len(others)} other worker(s) are running trials of this study now "
                    f"({', '.join(others)}); their trials appear here as they finish.", icon=":material/hub:")
        table = trials_table(study)
        st.dataframe(table, hide_index=True, column_config={
            "value": st.column_config.NumberColumn(OBJECTIVE, format="%.3f"),
            "seconds": st.column_config.NumberColumn("seconds", format="%.0f")})
        common.download_csv(table, f"study-{name}", loaded, label="Download the trials as CSV")
        _figures(study, loaded)
        _train_best(study, storage, loaded)


def _figures(study, loaded: common.Loaded) -> None:
    figures = study_figures(study)
    columns = st.columns(2)
    for index, (name, figure) in enumerate(figures.items()):
        with columns[index % 2]:
            if isinstance(figure, str):
                st.caption(figure)
            else:
                common.show_figure(figure, f"study-{study.study_name}-{name}", loaded)


def _train_best(study, storage: str | None, loaded: common.Loaded) -> None:
    """One click: the best trial's configuration trained as a normal run (scored on test once)."""
    try:
        config, origin = best_training(study, storage)
    except XanesError as exc:  # no completed trial yet, or the study's dataset is not here
        st.caption(f"Train the best: {exc}")
        return
    if Path(config.dataset).resolve() != (datasets_root() / loaded.name).resolve():
        st.caption(f"The study searched {config.dataset}; choose that dataset in the sidebar to train its best.")
        return
    if st.button(f"Train the best (trial {origin['trial']}, {origin['value']:.3f} on validation)",
                 icon=":material/model_training:", key="tune_train_best"):
        trainer = common.trainers().start(config, loaded, key=f"best-{study.study_name}", origin=origin)
        st.success(f"Training run {trainer.run_dir.name} started; follow it on the Training page.")


def _live(loaded: common.Loaded, watching: bool) -> None:
    """Polled while this server's search runs (or other workers do): jobs, then the study."""
    jobs = common.trainers().tuning_jobs()
    if watching != any(not job.snapshot().finished for job in jobs):
        st.rerun()
    for job in jobs[-3:]:
        with st.container(border=True):
            _job(job)
    st.button("Refresh", icon=":material/refresh:", key="tune_refresh",
              help="Read the study again (trials of other workers appear as they finish).")
    storage = st.session_state.get("tune_storage") or None
    with common.user_errors():
        names = study_names(open_storage(storage))
        chosen = st.session_state.get("tune_view")
        name = st.selectbox("Study", names, index=names.index(chosen) if chosen in names else 0,
                            key="tune_view_choice") if names else None
        st.caption(f"Storage: {masked(storage)}")
        _study_view(loaded, name, storage)


loaded = common.current()
common.page_header("Tuning", loaded, "Search the CNN's settings on the validation split (Optuna); "
                   "trials never see the test split, the best configuration is then trained as a normal run.")
st.text_input("Study storage (database URL)", key="tune_storage", placeholder="embedded: cache/studies/optuna.db",
              help="Blank: the embedded SQLite file. A PostgreSQL URL (postgresql://user:password@host/db) lets "
                   "`python -m xanes_core tune` workers on other machines share a study.")
_form(loaded)
active = any(not job.snapshot().finished for job in common.trainers().tuning_jobs())
st.fragment(run_every=_POLL_S if active else None)(_live)(loaded, active)
