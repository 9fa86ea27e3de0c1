"""Training page: renders, a tiny run started from the form completes and reaches Results, Stop cancels.

Trainers live in ``st.cache_resource`` (shared by every AppTest in this process), and one
training runs at a time per process, so each test starts from a cleared resource cache, in a
cache folder of its own, and never leaves a run going.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.app.helpers import APP, assert_clean, rerun_until
from xanes_core.learn import runs

RUN_TIMEOUT_S = 90.0
TINY = {"train_filters": "4, 8, 4", "train_dense": "16, 8", "train_symmetry_units": 8, "train_head_units": 8,
        "train_batch": 64}


@pytest.fixture
def cache(demo_cache: Path, tmp_path: Path, monkeypatch) -> Path:
    shutil.copytree(demo_cache / "datasets" / "demo", tmp_path / "datasets" / "demo")
    monkeypatch.setenv("XANES_CACHE", str(tmp_path))
    st.cache_resource.clear()  # no trainer left over from another test
    return tmp_path


@pytest.fixture
def page(cache: Path) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60).run()
    return app.switch_page("pages/training.py").run()


def fill(page: AppTest, epochs: int, model: str = "symmetry", **texts: str) -> AppTest:
    """Choose the model, fill the form with a tiny architecture (and ``texts`` by key), and submit."""
    page.get("button_group")[0].set_value(model).run()
    page.number_input(key="train_epochs").set_value(epochs)
    for key, value in texts.items():
        page.text_input(key=key).set_value(value)
    if model in ("symmetry", "core"):
        for key, value in TINY.items():
            widget = page.text_input(key=key) if isinstance(value, str) else page.number_input(key=key)
            widget.set_value(value)
    page.button(key="train_start").click().run()
    return page


def status_of(page: AppTest) -> str:
    return page.dataframe[0].value["status"].iloc[0]


def wait_until(page: AppTest, done, timeout: float = RUN_TIMEOUT_S) -> AppTest:
    return rerun_until(page, done, timeout, lambda: f"the run; runs: {[r.status for r in runs.list_runs()]}")


def test_renders(page: AppTest) -> None:
    assert_clean(page)
    assert page.title[0].value == "Training"
    assert page.number_input(key="train_epochs").value == 40
    assert "No runs yet." in [c.value for c in page.caption]


def test_tiny_named_run_completes_shows_its_score_and_opens_in_results(page: AppTest) -> None:
    fill(page, epochs=2, train_name="tiny paper recipe", train_note="for the slides")
    assert_clean(page)
    wait_until(page, lambda p: status_of(p) in ("completed", "failed"))
    assert_clean(page)
    assert status_of(page) == "completed", page.dataframe[0].value.to_dict("records")
    assert len(page.get("plotly_chart")) == 2  # the finished run's loss and accuracy curves
    table = page.dataframe[0].value
    assert (table["name"].iloc[0], table["note"].iloc[0]) == ("tiny paper recipe", "for the slides")
    run_id = table["run_id"].iloc[0]
    metrics = runs.read_run(next(r.run_dir for r in runs.list_runs() if r.run_id == run_id)).metrics
    score = next(m for m in page.metric if m.label == "Balanced accuracy (test)")
    assert score.value == f"{metrics['test']['balanced_accuracy']:.3f}"
    results = page.button(key=f"results-{run_id}").click().run()
    assert_clean(results)
    assert results.title[0].value == "Results"
    assert run_id in results.selectbox(key="results_run").value
    assert any("tiny paper recipe" in m.value for m in results.markdown)


def test_a_baseline_shows_only_what_applies_to_it(page: AppTest) -> None:
    page.get("button_group")[0].set_value("elements").run()
    assert_clean(page)
    keys = {w.key for w in page.number_input} | {w.key for w in page.text_input} | {w.key for w in page.checkbox}
    assert not keys & {"train_epochs", "train_batch", "train_augment", "train_filters", "train_seed",
                       "train_smoothing", "train_slot_units", "train_presence"}
    assert "train_rarity_clip" in keys  # the standardizer and the weights are the baselines' too
    assert any("fitted in one step" in c.value for c in page.caption)
    page.button(key="train_start").click().run()
    wait_until(page, lambda p: status_of(p) in ("completed", "failed"))
    assert status_of(page) == "completed"
    assert not any("curves appear" in c.value for c in page.caption)  # no curves promised
    assert not page.get("plotly_chart")


def test_page_runs_leave_the_keras_session_of_a_training_thread_alone(page: AppTest) -> None:
    """Streamlit would clear Keras' session after every script run, under a training thread."""
    import keras

    first = keras.backend.get_uid("session-probe")
    page.run()
    page.switch_page("pages/results.py").run()
    assert keras.backend.get_uid("session-probe") == first + 1


def test_stop_cancels_a_running_run(page: AppTest) -> None:
    fill(page, epochs=200)
    wait_until(page, lambda p: status_of(p) == "running" and any(b.key == _stop_key(p) for b in p.button))
    page.button(key=_stop_key(page)).click().run()
    wait_until(page, lambda p: status_of(p) == "cancelled", timeout=30)
    assert_clean(page)


def test_quick_model_from_predict_shows_live_on_training(page: AppTest) -> None:
    """Predict and Training share one trainer registry: the quick model's panel is live here too."""
    predict = page.switch_page("pages/predict.py").run()
    predict.button(key="predict_quick_train").click().run()
    training = predict.switch_page("pages/training.py").run()
    assert_clean(training)
    assert "Live" in [s.value for s in training.subheader]
    wait_until(training, lambda p: any(b.key == _stop_key(p) for b in p.button))
    training.button(key=_stop_key(training)).click().run()
    wait_until(training, lambda p: status_of(p) in ("cancelled", "completed"), timeout=60)
    assert_clean(training)


def test_the_paper_choices_can_be_set_from_the_form(page: AppTest) -> None:
    """Each departure from the paper has a widget whose other value restores the paper's choice."""
    page.get("button_group")[0].set_value("core").run()
    for key, value in {**TINY, "train_smoothing": 0.0, "train_rarity_clip": 0.0, "train_slot_units": 0}.items():
        widget = page.text_input(key=key) if isinstance(value, str) else page.number_input(key=key)
        widget.set_value(value)
    page.number_input(key="train_epochs").set_value(1)
    page.checkbox(key="train_augment").uncheck()
    page.checkbox(key="train_presence").uncheck()
    page.selectbox(key="train_scale").set_value("energy")
    page.selectbox(key="train_weighting").set_value("paper")
    page.button(key="train_start").click().run()
    assert_clean(page)
    (run,) = runs.list_runs()
    config = runs.read_config(run.run_dir)
    assert (config["label_smoothing"], config["weighting"], config["rarity_clip"], config["standardizer_scale"]) == \
        (0.0, "paper", None, "energy")
    assert (config["model_config"]["slot_units"], config["model_config"]["presence_input"]) == (0, False)
    wait_until(page, lambda p: status_of(p) in ("completed", "failed"))
    assert status_of(page) == "completed", page.dataframe[0].value.to_dict("records")
    assert runs.load_run(run.run_dir).standardizer.scale.shape == (81, 200)


def test_bad_architecture_is_an_error_message(page: AppTest) -> None:
    page.text_input(key="train_dense").set_value("64")
    page.button(key="train_start").click().run()
    assert not page.exception
    assert "Dense units" in page.error[0].value
    assert not runs.list_runs()


def test_a_run_with_damaged_metrics_is_listed_with_the_file_named(cache: Path) -> None:
    run_dir = runs.new_run_dir("symmetry")
    runs.write_config(run_dir, {"model": "symmetry", "dataset": str(cache / "datasets" / "demo"),
                                "created": "2026-11-24T10:00:00+00:00"})
    runs.write_status(run_dir, "completed", "finished in 3.0 s")
    (run_dir / runs.METRICS).write_text("[1, 2]")
    page = AppTest.from_file(APP, default_timeout=60).run().switch_page("pages/training.py").run()
    assert_clean(page)
    (row,) = page.dataframe[0].value.to_dict("records")
    assert row["run_id"] == run_dir.name and str(run_dir / runs.METRICS) in row["message"]


def test_a_run_whose_dataset_was_rebuilt_is_listed_as_such(changed_cache: Path, monkeypatch) -> None:
    monkeypatch.setenv("XANES_CACHE", str(changed_cache))
    page = AppTest.from_file(APP, default_timeout=60).run().switch_page("pages/training.py").run()
    assert_clean(page)
    (row,) = page.dataframe[0].value.to_dict("records")
    assert row["run_id"] == "before-rebuild" and row["dataset_state"] == "changed since training"


def _stop_key(page: AppTest) -> str:
    return f"stop-{page.dataframe[0].value['run_id'].iloc[0]}"
