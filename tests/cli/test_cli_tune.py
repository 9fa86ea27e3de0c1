"""`python -m xanes_core tune` / `tune-best` through the real command line. Workers are separate
processes sharing one study, on the embedded SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid

import optuna
import pytest

from tests.helpers import TRAIN_KEYS
from tests.postgres import PASSWORD
from xanes_core.learn.search_space import config_from_params
from xanes_core.learn.studies import load_study
from xanes_core.learn.study_storage import GRACE_S

SUMMARY_KEYS = {"study", "storage", "n_trials", "n_complete", "n_pruned", "n_failed", "best_value",
                "best_params", "seconds"}
OPTUNA_LOG_LINE = re.compile(r"^\[[IWE] \d{4}-\d\d-\d\d|Trial \d+ (finished|pruned|failed)", re.M)


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "xanes_core", *args]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(command(*args), capture_output=True, text=True, timeout=600)


def printed_summary(stdout: str, stderr: str) -> dict:
    """The one JSON object on stdout, after checking no Optuna log line reached the terminal."""
    assert not OPTUNA_LOG_LINE.search(stderr) and not OPTUNA_LOG_LINE.search(stdout), stderr[-2000:]
    summary = json.loads(stdout)
    assert set(summary) == SUMMARY_KEYS
    return summary


def storage_args(url: str | None) -> list[str]:
    return ["--storage", url] if url else []


@pytest.fixture(params=["embedded", "postgresql"])
def storage(request) -> str | None:
    """None: the embedded default under cache/studies; else a real PostgreSQL server's URL."""
    return None if request.param == "embedded" else request.getfixturevalue("postgres_url")


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def test_two_workers_share_one_study_with_an_exact_trial_count(storage, demo_tiny_path):
    study = unique("two-workers")
    args = ["tune", "--dataset", str(demo_tiny_path), "--study", study, "--trials", "2", *storage_args(storage)]
    workers = [subprocess.Popen(command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    outputs = [worker.communicate(timeout=600) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], [err[-2000:] for _, err in outputs]
    summaries = [printed_summary(out, err) for out, err in outputs]
    trials = load_study(study, storage).get_trials()
    assert sorted(t.number for t in trials) == [0, 1, 2, 3]
    assert {t.state for t in trials} <= {optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED}
    assert len({t.user_attrs["worker"] for t in trials}) == 2
    assert max(s["n_trials"] for s in summaries) == 4
    if storage:
        assert all(PASSWORD not in out + err for out, err in outputs)
        assert all(s["storage"].startswith("postgresql+psycopg://postgres:***@") for s in summaries)


def _wait_for_a_running_trial(study: str, storage: str | None, worker: subprocess.Popen) -> int:
    """The number of a trial that has reported at least one epoch and is still running."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert worker.poll() is None, worker.communicate()[1][-2000:]
        try:
            running = load_study(study, storage).get_trials(states=(optuna.trial.TrialState.RUNNING,))
        except Exception:  # noqa: BLE001 - the study may not exist yet
            running = []
        started = [t.number for t in running if t.intermediate_values]
        if started:
            return started[0]
        time.sleep(0.5)
    raise AssertionError("no trial reported an epoch within 300 s")


def test_a_worker_killed_mid_trial_leaves_a_failed_trial_and_a_usable_study(demo_tiny_path):
    """On the embedded SQLite file, where a process killed while writing is the greater risk."""
    study, storage = unique("killed"), None
    args = ["tune", "--dataset", str(demo_tiny_path), "--study", study]
    victim = subprocess.Popen(command(*args, "--trials", "5"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    killed_trial = _wait_for_a_running_trial(study, storage, victim)
    victim.kill()
    victim.communicate(timeout=60)
    time.sleep(GRACE_S)  # the victim's heartbeat is now stale
    result = run_cli(*args, "--trials", "1")
    assert result.returncode == 0, result.stderr[-2000:]
    summary = printed_summary(result.stdout, result.stderr)
    trials = {t.number: t for t in load_study(study, storage).get_trials()}
    assert trials[killed_trial].state == optuna.trial.TrialState.FAIL
    assert sorted(trials) == list(range(len(trials))) and summary["n_trials"] == len(trials)
    assert not [t for t in trials.values() if t.state == optuna.trial.TrialState.RUNNING]
    assert summary["n_complete"] + summary["n_pruned"] >= 1 and summary["n_failed"] == 1


def test_tune_then_tune_best_trains_the_best_configuration_as_a_normal_run(demo_tiny_path, tmp_path):
    study = unique("best")
    tuned = run_cli("tune", "--dataset", str(demo_tiny_path), "--study", study, "--trials", "1", "--seed", "3")
    assert tuned.returncode == 0, tuned.stderr[-2000:]
    summary = printed_summary(tuned.stdout, tuned.stderr)
    assert summary["n_trials"] == 1 and summary["storage"].endswith("/studies/optuna.db")
    best = max((t for t in load_study(study).get_trials() if t.value is not None), key=lambda t: t.value)
    assert summary["best_value"] == best.value and summary["best_params"] == best.params

    out = tmp_path / "best-run"
    trained = run_cli("tune-best", "--study", study, "--out", str(out))
    assert trained.returncode == 0, trained.stderr[-2000:]
    result = json.loads(trained.stdout)
    assert set(result) == TRAIN_KEYS and result["run_dir"] == str(out)
    config = json.loads((out / "config.json").read_text())
    assert config["origin"]["study"] == study and config["origin"]["trial"] == best.number
    assert config["seed"] == 3 and config["dataset"] == str(demo_tiny_path.resolve())
    expected = config_from_params(_config_of(config), best.params)
    assert expected.to_dict() == _config_of(config).to_dict()
    assert json.loads((out / "metrics.json").read_text())["test"]["balanced_accuracy"] == \
        pytest.approx(result["test"]["balanced_accuracy"])


def _config_of(saved: dict):
    from xanes_core.learn.config import TrainingConfig

    return TrainingConfig.from_dict(saved)


@pytest.mark.parametrize("args, says", [
    (["tune", "--dataset", "/no/such/dataset", "--study", "s"], "No dataset folder"),
    (["tune", "--dataset", "{dataset}", "--study", "s", "--storage", "not a url"], "not a database URL"),
    (["tune", "--dataset", "{dataset}", "--study", "s", "--storage",
      f"postgresql://someone:{PASSWORD}@127.0.0.1:9/db"], "Cannot open the study storage"),
    (["tune", "--dataset", "{dataset}", "--study", "s", "--trials", "0"], "at least 1"),
    (["tune-best", "--study", "no-such-study", "--out", "{tmp}/run"], "No study 'no-such-study'"),
])
def test_bad_requests_exit_2_with_one_line(args, says, demo_tiny_path, tmp_path):
    result = run_cli(*[a.format(dataset=demo_tiny_path, tmp=tmp_path) for a in args])
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stdout == "" and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and says in last and PASSWORD not in result.stderr
    assert not (tmp_path / "run").exists()
