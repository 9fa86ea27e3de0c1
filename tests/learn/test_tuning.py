"""Tuning in-process: the search space maps onto TrainingConfig both ways, a study starts from
the defaults, trials never read the test split, joining checks the dataset, Stop stops."""

from __future__ import annotations

import time
import uuid

import numpy as np
import optuna
import pytest

from xanes_core.data.dataset import XanesDataset
from xanes_core.errors import XanesError
from xanes_core.learn.config import ModelConfig, TrainingConfig
from xanes_core.learn.search_space import config_from_params, params_of, suggest
from xanes_core.learn.studies import (
    OBJECTIVE,
    TuningRequest,
    best_training,
    load_study,
    open_study,
    trials_table,
)
from xanes_core.learn.study_storage import masked, open_storage


pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")  # ask/tell by hand


def request(path, **changes) -> TuningRequest:
    return TuningRequest(**{"dataset": str(path), "study": f"study-{uuid.uuid4().hex[:8]}", "n_trials": 1,
                            **changes})


@pytest.mark.parametrize("model", ["symmetry", "core"])
def test_the_defaults_are_a_point_of_the_space_and_map_back_to_themselves(model):
    defaults = TrainingConfig(dataset="d", model=model)
    assert config_from_params(defaults, params_of(defaults)) == defaults
    other = TrainingConfig(dataset="d", model=model, learning_rate=3e-4, batch_size=128, weighting="class",
                           model_config=ModelConfig(filters=(8, 4), kernel_size=9, dropout=0.2, slot_units=0))
    assert config_from_params(defaults, params_of(other)) == other


def test_every_drawn_configuration_is_a_valid_training_config():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    base = TrainingConfig(dataset="d")
    for _ in range(30):
        trial = study.ask()
        config = config_from_params(base, suggest(trial, "symmetry"))
        assert 1 <= len(config.model_config.filters) <= 3 and config.weighting in ("paper", "class")
        study.tell(trial, 0.5)


def test_a_new_study_records_its_settings_and_starts_from_the_defaults(demo_tiny_path):
    study, base = open_study(request(demo_tiny_path, seed=4))
    settings = study.user_attrs["xanes"]
    assert settings["objective"] == OBJECTIVE and settings["base_config"]["seed"] == 4 == base.seed
    assert len(study.get_trials(states=(optuna.trial.TrialState.WAITING,))) == 1
    first = study.ask()
    assert suggest(first, "symmetry") == params_of(TrainingConfig(dataset="d"))
    study.tell(first, 0.5)


def test_joining_a_study_checks_dataset_and_seed(demo_tiny_path, demo_small_path):
    first = request(demo_tiny_path)
    open_study(first)
    with pytest.raises(XanesError, match="another dataset"):
        open_study(TuningRequest(dataset=str(demo_small_path), study=first.study))
    with pytest.raises(XanesError, match="trains with seed 0"):
        open_study(TuningRequest(dataset=str(demo_tiny_path), study=first.study, seed=1))
    study, base = open_study(TuningRequest(dataset=str(demo_tiny_path), study=first.study))
    assert base.seed == 0 and len(study.get_trials()) == 1  # joining adds no second defaults trial


def test_storage_urls_are_checked_and_passwords_masked():
    assert masked("postgresql://ann:pa55@db.example:5432/studies") == \
        "postgresql+psycopg://ann:***@db.example:5432/studies"
    with pytest.raises(XanesError, match="not a database URL"):
        open_storage("just words")
    with pytest.raises(XanesError, match="Cannot open") as error:
        open_storage("postgresql://ann:pa55@127.0.0.1:9/studies")
    assert "pa55" not in str(error.value)
    with pytest.raises(XanesError, match="No study 'absent'"):
        load_study("absent")


def _poisoned(dataset: XanesDataset) -> XanesDataset:
    """The same dataset with every test material's spectra replaced by noise x1000 and its label
    flipped: any use of the test split by a trial would change the trial's numbers."""
    test = dataset.split_indices("test")
    spectra = dataset.spectra.copy()
    rows = dataset.rows_for_samples(test)
    spectra[rows] = np.random.default_rng(0).normal(0, 1000, (rows.size, spectra.shape[1]))
    metadata = dataset.metadata.copy()
    metadata.loc[test, "label"] = 1 - metadata.loc[test, "label"]
    return XanesDataset(spectra=spectra, sample_index=dataset.sample_index, channel=dataset.channel,
                        metadata=metadata, coverage=dataset.coverage, grids=dataset.grids,
                        provenance=dataset.provenance)


def test_a_trial_never_reads_the_test_split(demo_tiny_path):
    from xanes_core.learn.tuning import run_study

    clean = XanesDataset.load(demo_tiny_path)
    values = []
    for dataset in (clean, _poisoned(clean)):
        one = request(demo_tiny_path)
        summary = run_study(one, dataset=dataset)
        trial = load_study(one.study).get_trials()[0]
        assert summary.n_complete == 1 and trial.params == params_of(TrainingConfig(dataset="d"))
        assert len(trial.intermediate_values) == trial.user_attrs["epochs_run"]
        values.append((trial.value, dict(trial.intermediate_values)))
    assert values[0] == values[1]


def test_stop_ends_the_search_and_fails_the_current_trial(demo_tiny_path):
    from xanes_core.learn.tuning import TuningJob

    job = TuningJob(request(demo_tiny_path, n_trials=50), dataset=XanesDataset.load(demo_tiny_path)).start()
    deadline = time.monotonic() + 300
    while job.snapshot().epoch < 1:
        assert time.monotonic() < deadline and not job.snapshot().finished, job.snapshot()
        time.sleep(0.2)
    job.cancel()
    final = job.join(120)
    assert final.status == "cancelled", final
    table = trials_table(load_study(job.request.study))
    assert table["state"].tolist()[-1] == "fail" and table["error"].tolist()[-1] == "stopped on request"
    assert len(table) < 50


def test_best_training_is_the_best_trial_on_the_study_dataset(demo_tiny_path):
    study, _ = open_study(request(demo_tiny_path))  # its first waiting trial: the defaults
    study.enqueue_trial(params_of(TrainingConfig(dataset="d", learning_rate=5e-4)))
    for value in (0.6, 0.7):
        trial = study.ask()
        suggest(trial, "symmetry")
        study.tell(trial, value)
    config, origin = best_training(study, None)
    assert config.learning_rate == 5e-4 and config.dataset == str(demo_tiny_path.resolve())
    assert origin["value"] == 0.7 and origin["trial"] == 1 and origin["study"] == study.study_name
    assert origin["objective"] == OBJECTIVE


def test_an_empty_study_has_no_best_training(demo_tiny_path):
    study, _ = open_study(request(demo_tiny_path))
    with pytest.raises(XanesError, match="no completed trial"):
        best_training(study, None)


def test_the_job_waits_for_a_training_of_the_same_process(demo_tiny_path):
    """A search and a dashboard training take turns: while the turn is held, no trial trains."""
    from xanes_core.learn import turns
    from xanes_core.learn.tuning import TuningJob

    holder = object()
    assert turns.wait_turn(holder, lambda: False)
    try:
        job = TuningJob(request(demo_tiny_path), dataset=XanesDataset.load(demo_tiny_path)).start()
        time.sleep(3)
        assert job.snapshot().epoch == 0 and not job.snapshot().finished
    finally:
        turns.release_turn(holder)
    assert job.join(300).status == "completed"


def test_the_classifier_and_the_config_default_to_the_same_chosen_settings():
    """Both carry the defaults the search chose (BENCHMARKS.md); they must not drift apart."""
    from xanes_core.learn.classifiers import CNNClassifier

    assert CNNClassifier().get_params() == TrainingConfig(dataset="d").classifier().get_params()
