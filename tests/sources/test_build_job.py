"""BuildJob: background run, progress, stop, one build per process, the key kept nowhere.

The build function is replaced by stand-ins so these tests take milliseconds; the real build
through a BuildJob is exercised by tests/app/test_app_data_sources.py against the local server.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from xanes_core.errors import SourceError
from xanes_core.paths import datasets_root
from xanes_core.sources.api_key import OFFICIAL_ENDPOINT
from xanes_core.sources.build_job import BuildJob, dataset_folder
from xanes_core.sources.mp_client import BuildCancelled

KEY = "Xk3tS9pQv2LmN8rB4wZy7HcJ1dFgA6eU"
LABELS = pd.DataFrame({"mp_id": ["mp-1"], "label": [1]})
WAIT_S = 5.0


def finished(job: BuildJob):
    assert job.wait(WAIT_S), "the build did not end"
    return job.status()


def test_completes_with_progress_and_result(tmp_path) -> None:
    seen = {}
    halfway = threading.Event()
    resume = threading.Event()

    def build(labels, **kwargs):
        seen.update(kwargs, labels=labels)
        kwargs["progress"](1, 2, "Fetching chunk 1 of 2")
        halfway.set()
        resume.wait(WAIT_S)
        kwargs["progress"](2, 2, "Saved")
        return SimpleNamespace(n_with_all_spectra=3, path=kwargs["out"])

    job = BuildJob(build)
    assert job.status().status == "idle"
    job.start(LABELS, api_key=KEY, endpoint=" ", out=tmp_path / "mp", chunk_size=7)
    assert halfway.wait(WAIT_S)
    status = job.status()
    assert (status.status, status.fraction, status.message) == ("running", 0.5, "Fetching chunk 1 of 2")
    resume.set()
    status = finished(job)
    assert status.status == "completed" and status.fraction == 1.0
    assert status.result.n_with_all_spectra == 3 and "Saved 3 materials" in status.message
    assert seen["labels"] is LABELS and seen["api_key"] == KEY and seen["chunk_size"] == 7
    assert seen["endpoint"] == OFFICIAL_ENDPOINT  # blank means the official server


def test_stop_ends_as_cancelled() -> None:
    def build(labels, *, cancel, **kwargs):
        cancel.wait(WAIT_S)
        raise BuildCancelled("The Materials Project build was stopped.")

    job = BuildJob(build)
    job.start(LABELS, api_key=KEY)
    job.stop()
    status = finished(job)
    assert status.status == "cancelled" and "stopped" in status.error


@pytest.mark.parametrize("error, expected", [
    (SourceError(f"Materials Project refused the API key {KEY}"), "Materials Project refused the API key ***"),
    (RuntimeError(f"boom {KEY}"), "Unexpected error (RuntimeError): boom ***"),
])
def test_failures_are_recorded_with_the_key_redacted(error, expected) -> None:
    def build(labels, **kwargs):
        raise error

    job = BuildJob(build)
    job.start(LABELS, api_key=KEY)
    status = finished(job)
    assert (status.status, status.error) == ("failed", expected)


def test_one_build_per_process_and_restart_after_it_ends() -> None:
    release = threading.Event()

    def build(labels, **kwargs):
        release.wait(WAIT_S)
        return SimpleNamespace(n_with_all_spectra=1, path=Path("x"))

    first, second = BuildJob(build), BuildJob(build)
    first.start(LABELS, api_key=KEY)
    for job in (first, second):
        with pytest.raises(SourceError, match="already running"):
            job.start(LABELS, api_key=KEY)
    assert second.status().status == "idle"
    release.set()
    assert finished(first).status == "completed"
    second.start(LABELS, api_key=KEY)
    assert finished(second).status == "completed"


def test_missing_key_fails_at_start(monkeypatch) -> None:
    monkeypatch.delenv("MP_API_KEY", raising=False)
    job = BuildJob(lambda labels, **kwargs: pytest.fail("must not run"))
    with pytest.raises(SourceError, match="MP_API_KEY"):
        job.start(LABELS, api_key="")
    assert job.status().status == "idle"


def test_server_key_for_a_custom_endpoint_fails_at_start(monkeypatch) -> None:
    monkeypatch.setenv("MP_API_KEY", KEY)
    monkeypatch.delenv("XANES_MP_KEY_ENDPOINTS", raising=False)
    job = BuildJob(lambda labels, **kwargs: pytest.fail("must not run"))
    with pytest.raises(SourceError, match="enter your own API key") as info:
        job.start(LABELS, api_key=None, endpoint="http://127.0.0.1:9/")
    assert KEY not in str(info.value)
    assert job.status().status == "idle"


def test_key_is_kept_nowhere_on_the_job() -> None:
    release = threading.Event()
    job = BuildJob(lambda labels, **kwargs: release.wait(WAIT_S) and SimpleNamespace(n_with_all_spectra=1, path="x"))
    job.start(LABELS, api_key=KEY)
    try:
        assert KEY not in repr(vars(job)) and KEY not in repr(job.status())
    finally:
        release.set()
        finished(job)


def test_dataset_folder_is_a_plain_name_under_the_cache() -> None:
    assert dataset_folder(" mp-2025.09_full ") == datasets_root() / "mp-2025.09_full"
    for bad in ("", "../elsewhere", "a/b", ".hidden", "demo", "x" * 65):
        with pytest.raises(SourceError, match="cannot be a dataset name"):
            dataset_folder(bad)
