"""Tuning page: renders, a one-trial search started from the form completes and its best trains
as a run that records the study and trial, Stop stops a search, other workers are noted.

Searches and trainers live in ``st.cache_resource`` (shared by every AppTest in this process),
so each test starts from a cleared resource cache, in a cache folder of its own.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.app.helpers import APP, assert_clean, rerun_until
from xanes_core.learn.studies import TuningRequest, open_study

RUN_TIMEOUT_S = 300.0


@pytest.fixture
def cache(demo_cache: Path, tmp_path: Path, monkeypatch) -> Path:
    shutil.copytree(demo_cache / "datasets" / "demo", tmp_path / "datasets" / "demo")
    monkeypatch.setenv("XANES_CACHE", str(tmp_path))
    st.cache_resource.clear()  # no search or trainer left over from another test
    return tmp_path


@pytest.fixture
def page(cache: Path) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60).run()
    return app.switch_page("pages/tuning.py").run()


def jobs():
    from pages import common

    return common.trainers().tuning_jobs()


def start(page: AppTest, trials: int) -> AppTest:
    page.number_input(key="tune_trials").set_value(trials)
    return page.button(key="tune_start").click().run()


def test_renders(page: AppTest) -> None:
    assert_clean(page)
    assert page.title[0].value == "Tuning"
    assert page.text_input(key="tune_study").value == "cnn-demo"
    assert "No study in this storage yet: start one above." in [c.value for c in page.caption]


def test_a_search_completes_and_its_best_trains_as_a_run_that_names_its_trial(page: AppTest, cache: Path) -> None:
    start(page, trials=1)
    assert_clean(page)
    rerun_until(page, lambda p: jobs() and jobs()[0].snapshot().finished, RUN_TIMEOUT_S,
                lambda: f"the search: {jobs()[0].snapshot() if jobs() else 'not started'}", pause=2.0)
    page.run()
    assert_clean(page)
    assert jobs()[0].snapshot().status == "completed"
    table = page.dataframe[0].value
    assert table["state"].tolist() == ["complete"] and table["trial"].tolist() == [0]
    assert len(page.get("plotly_chart")) == 3  # history, parallel coordinates, per-epoch values
    page.button(key="tune_train_best").click().run()
    assert_clean(page)
    from pages import common

    trainer = common.trainers().get("best-cnn-demo")
    trainer.cancel()
    trainer.join(120)
    origin = json.loads((trainer.run_dir / "config.json").read_text())["origin"]
    assert origin["study"] == "cnn-demo" and origin["trial"] == 0
    assert origin["value"] == pytest.approx(table["value"].iloc[0])


def test_stop_cancels_a_search(page: AppTest) -> None:
    start(page, trials=50)
    rerun_until(page, lambda p: jobs() and jobs()[0].snapshot().epoch >= 1, RUN_TIMEOUT_S,
                lambda: f"a first epoch: {jobs()[0].snapshot() if jobs() else 'not started'}", pause=2.0)
    page.button(key="tune-stop-cnn-demo").click().run()
    rerun_until(page, lambda p: jobs()[0].snapshot().finished, 120, lambda: f"the stop: {jobs()[0].snapshot()}")
    page.run()
    assert_clean(page)
    assert jobs()[0].snapshot().status == "cancelled"
    assert page.dataframe[0].value["state"].tolist()[-1] == "fail"


@pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")
def test_other_workers_of_the_study_are_noted(page: AppTest, cache: Path) -> None:
    study, _ = open_study(TuningRequest(dataset=str(cache / "datasets" / "demo"), study="shared"))
    trial = study.ask()
    trial.set_user_attr("worker", "gpu-node-7:4242")
    page.run()
    assert_clean(page)
    assert any("gpu-node-7:4242" in info.value for info in page.info)
    assert page.dataframe[0].value["state"].tolist() == ["running"]
