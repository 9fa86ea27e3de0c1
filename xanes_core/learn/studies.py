"""Tuning studies as records: create or join one, summarize it, list its trials, and turn its
best trial into the TrainingConfig of a normal run. No TensorFlow (pages read studies with it).

A study belongs to one dataset (the content hashes of its manifest, so workers on other
machines may keep the same dataset at other paths), one model type, one training seed and one
version of the search space; the creating worker records them as the study attribute
``xanes`` and enqueues the base defaults as the first trial, and joining workers are refused
when their dataset or seed differ. Each trial records the worker (host:pid) that ran it.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import optuna
import pandas as pd

from xanes_core.data.dataset import check_dataset_folder
from xanes_core.errors import DatasetError, XanesError
from xanes_core.learn.config import TrainingConfig
from xanes_core.learn.search_space import SPACE_VERSION, config_from_params, params_of
from xanes_core.learn.study_storage import masked, open_storage, study_names

OBJECTIVE = "validation balanced accuracy"
STUDY_ATTR = "xanes"
WORKER = f"{socket.gethostname()}:{os.getpid()}"  # this process, as trials record it
N_STARTUP_TRIALS = 8  # random trials before TPE models the results
PRUNE_AFTER = 5  # completed trials before the median pruner acts, and epochs (warm-up) per trial


@dataclass(frozen=True)
class TuningRequest:
    """One worker's share of a study. ``n_trials``/``timeout_s``: trials this worker runs and
    the time after which it starts no new one; ``seed``: the study's training seed (None: the
    study's own, 0 for a new study)."""

    dataset: str
    study: str
    storage: str | None = None
    n_trials: int | None = 20
    timeout_s: float | None = None
    seed: int | None = None
    model: str = "symmetry"

    def __post_init__(self) -> None:
        if not self.study.strip():
            raise XanesError("Give the study a name.")
        if self.n_trials is not None and self.n_trials < 1:
            raise XanesError("The number of trials must be at least 1.")
        if self.timeout_s is not None and not self.timeout_s > 0:
            raise XanesError("The time budget must be positive (seconds).")


@dataclass(frozen=True)
class StudySummary:
    """What ``tune`` prints: the whole study's counts (every worker's trials), its best so far."""

    study: str
    storage: str
    n_trials: int
    n_complete: int
    n_pruned: int
    n_failed: int
    best_value: float | None
    best_params: dict[str, Any] | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def dataset_fingerprint(manifest: dict[str, Any]) -> str:
    """One hash of a dataset's content (its manifest's file hashes), independent of its path."""
    hashes = manifest.get("sha256") or {}
    return hashlib.sha256("".join(f"{k}={hashes[k]};" for k in sorted(hashes)).encode()).hexdigest()


def sampler(seed: int) -> optuna.samplers.TPESampler:
    """TPE over the joint space, seeded from the study's seed and this worker's process id so
    that workers started together do not draw the same random configurations; constant liar:
    a worker treats others' running trials as bad, so they do not all close in on one point."""
    entropy = int.from_bytes(hashlib.sha256(f"{seed}:{WORKER}".encode()).digest()[:4], "big")
    return optuna.samplers.TPESampler(seed=entropy, n_startup_trials=N_STARTUP_TRIALS, multivariate=True,
                                      group=True, constant_liar=True)


def pruner() -> optuna.pruners.MedianPruner:
    """Stop a trial whose validation balanced accuracy at an epoch is below the median of earlier
    trials at that epoch (after PRUNE_AFTER finished trials and PRUNE_AFTER epochs)."""
    return optuna.pruners.MedianPruner(n_startup_trials=PRUNE_AFTER, n_warmup_steps=PRUNE_AFTER)


def open_study(request: TuningRequest) -> tuple[optuna.Study, TrainingConfig]:
    """Create the study (recording its settings, first trial = the base defaults) or join it.

    Returns the study and the base TrainingConfig every trial starts from (this worker's
    dataset path). XanesError for a missing dataset, a bad storage or a mismatching study.
    """
    path = Path(request.dataset).resolve()
    fingerprint = dataset_fingerprint(check_dataset_folder(path))
    storage = open_storage(request.storage)
    seed = 0 if request.seed is None else request.seed
    try:
        study = optuna.create_study(storage=storage, study_name=request.study, direction="maximize",
                                    sampler=sampler(seed), pruner=pruner())
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=request.study, storage=storage, sampler=None, pruner=pruner())
        settings = _settings(study)
        _check_joinable(study.study_name, settings, fingerprint, request)
        study.sampler = sampler(int(settings["base_config"]["seed"]))
        base = TrainingConfig.from_dict(settings["base_config"])
        return study, replace(base, dataset=str(path))
    base = TrainingConfig(dataset=str(path), model=request.model, seed=seed)
    study.set_user_attr(STUDY_ATTR, {"objective": OBJECTIVE, "space_version": SPACE_VERSION,
                                     "dataset": str(path), "dataset_fingerprint": fingerprint,
                                     "base_config": base.to_dict()})
    study.enqueue_trial(params_of(base), user_attrs={"note": "the defaults before this study"})
    return study, base


def _settings(study: optuna.Study, wait_s: float = 10.0) -> dict[str, Any]:
    """The study's recorded settings; a study created this instant may take a moment to have them."""
    deadline = time.monotonic() + wait_s
    while STUDY_ATTR not in study.user_attrs:
        if time.monotonic() > deadline:
            raise XanesError(f"Study '{study.study_name}' was not made by this tool (no settings recorded).")
        time.sleep(0.2)
    return study.user_attrs[STUDY_ATTR]


def _check_joinable(name: str, settings: dict[str, Any], fingerprint: str, request: TuningRequest) -> None:
    if settings.get("space_version") != SPACE_VERSION:
        raise XanesError(f"Study '{name}' searches version {settings.get('space_version')} of the search "
                         f"space; this tool searches version {SPACE_VERSION}. Start a new study.")
    if settings.get("dataset_fingerprint") != fingerprint:
        raise XanesError(f"Study '{name}' searches another dataset ({settings.get('dataset')}); "
                         f"{request.dataset} has different content. Use another study name.")
    seed = settings["base_config"]["seed"]
    if request.seed is not None and request.seed != seed:
        raise XanesError(f"Study '{name}' trains with seed {seed}; leave --seed out or give {seed}.")


def load_study(name: str, storage_url: str | None = None) -> optuna.Study:
    """An existing study (XanesError naming the known ones when it is not there); trials of
    workers that died are marked failed first, so nothing shows as running forever."""
    storage = open_storage(storage_url)
    if name not in (names := study_names(storage)):
        known = ", ".join(names) if names else "none yet"
        raise XanesError(f"No study '{name}' in {masked(storage_url)} (studies there: {known}).")
    study = optuna.load_study(study_name=name, storage=storage, sampler=None, pruner=pruner())
    optuna.storages.fail_stale_trials(study)
    return study


def summarize(study: optuna.Study, storage_url: str | None, seconds: float) -> StudySummary:
    trials = study.get_trials(deepcopy=False)
    counts = {state: sum(t.state == state for t in trials) for state in optuna.trial.TrialState}
    best = best_trial(study)
    return StudySummary(study=study.study_name, storage=masked(storage_url), n_trials=len(trials),
                        n_complete=counts[optuna.trial.TrialState.COMPLETE],
                        n_pruned=counts[optuna.trial.TrialState.PRUNED],
                        n_failed=counts[optuna.trial.TrialState.FAIL],
                        best_value=None if best is None else best.value,
                        best_params=None if best is None else dict(best.params),
                        seconds=round(seconds, 2))


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return max(complete, key=lambda trial: trial.value) if complete else None


def best_training(study: optuna.Study, storage_url: str | None) -> tuple[TrainingConfig, dict[str, Any]]:
    """The best trial's TrainingConfig (on the study's dataset) and the origin its run records."""
    trial = best_trial(study)
    if trial is None:
        raise XanesError(f"Study '{study.study_name}' has no completed trial yet.")
    settings = _settings(study, wait_s=0)
    path = settings["dataset"]
    try:
        fingerprint = dataset_fingerprint(check_dataset_folder(path))
    except DatasetError as exc:
        raise XanesError(f"The study's dataset cannot be used here: {exc}") from None
    if fingerprint != settings["dataset_fingerprint"]:
        raise XanesError(f"The dataset at {path} has changed since study '{study.study_name}' searched it.")
    config = config_from_params(TrainingConfig.from_dict({**settings["base_config"], "dataset": path}),
                                trial.params)
    origin = {"study": study.study_name, "storage": masked(storage_url), "trial": trial.number,
              "objective": OBJECTIVE, "value": trial.value}
    return config, origin


def trials_table(study: optuna.Study) -> pd.DataFrame:
    """One row per trial: number, state, value, epochs, seconds, worker, error, then parameters."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        seconds = ((trial.datetime_complete - trial.datetime_start).total_seconds()
                   if trial.datetime_complete and trial.datetime_start else None)
        attrs = trial.user_attrs
        rows.append({"trial": trial.number, "state": trial.state.name.lower(), "value": trial.value,
                     "epochs": attrs.get("epochs_run", len(trial.intermediate_values) or None),
                     "seconds": seconds, "worker": attrs.get("worker", ""), "error": attrs.get("error", ""),
                     **trial.params})
    return pd.DataFrame(rows)


def other_workers(study: optuna.Study) -> list[str]:
    """Workers (host:pid) other than this process that are running a trial of the study now."""
    running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    return sorted({t.user_attrs.get("worker", "unknown") for t in running} - {WORKER})
