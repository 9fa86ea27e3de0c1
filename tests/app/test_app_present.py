"""Presentation page: the four sections in order for a CNN run, enlarged text, no run yet."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.helpers import APP, assert_clean
from xanes_core.learn.config import ModelConfig
from xanes_core.learn.training import Trainer, TrainingConfig

TINY = ModelConfig(filters=(4, 8, 4), dense_units=(16, 8), symmetry_units=8, head_units=8)


@pytest.fixture(scope="module")
def trained(demo_cache: Path, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("present-cache")
    dataset = root / "datasets" / "demo"
    shutil.copytree(demo_cache / "datasets" / "demo", dataset)
    for model in ("elements", "symmetry"):
        config = TrainingConfig(dataset=str(dataset), model=model, epochs=2, model_config=TINY)
        assert Trainer(config, out=root / "runs" / model).start().join(timeout=180).status == "completed"
    return root


def _open(cache: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("XANES_CACHE", str(cache))
    return AppTest.from_file(APP, default_timeout=120).run().switch_page("pages/present.py").run()


def test_the_talk_in_order_with_projector_text(trained: Path, monkeypatch) -> None:
    page = _open(trained, monkeypatch)
    assert_clean(page)
    assert [h.value for h in page.header] == ["1 · The data", "2 · Without supervision",
                                              "3 · The classifier: CNN + symmetry", "4 · One material"]
    assert "symmetry" in page.selectbox(key="present_run").value  # a CNN run first
    assert {m.label for m in page.metric} >= {"Balanced accuracy", "Topological recall", "Without spectra"}
    assert any("which agrees with the dataset" in m.value or "which differs from the dataset" in m.value
               for m in page.markdown)
    charts = page.get("plotly_chart")
    assert len(charts) == 2 + 1 + 3 + 2  # data, clustering, classifier, one material
    large = json.loads(charts[0].proto.spec)["layout"]["font"]["size"]
    page.toggle(key="present_large").set_value(False).run()
    small = json.loads(page.get("plotly_chart")[0].proto.spec)["layout"].get("font", {}).get("size")
    assert small is None or large > small


def test_without_a_run_the_data_sections_still_show(demo_cache: Path, tmp_path: Path, monkeypatch) -> None:
    shutil.copytree(demo_cache / "datasets" / "demo", tmp_path / "datasets" / "demo")
    page = _open(tmp_path, monkeypatch)
    assert_clean(page)
    assert "No completed run" in page.info[0].value
    assert [h.value for h in page.header] == ["1 · The data", "2 · Without supervision"]
