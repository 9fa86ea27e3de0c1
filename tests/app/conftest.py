"""AppTest fixtures: a small demo dataset in a cache of its own, and an app runner.

The dataset lives in a folder no other test writes to, and every app test points $XANES_CACHE
there (after the suite-wide isolated cache), so other tests' datasets cannot leak in.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.helpers import APP, N_SAMPLES
from xanes_core.data.demo import generate_demo


@pytest.fixture(scope="session")
def demo_cache(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("app-cache")
    generate_demo(N_SAMPLES, seed=1).save(root / "datasets" / "demo")
    return root


@pytest.fixture
def app(demo_cache: Path, monkeypatch) -> AppTest:
    """The dashboard after its first run on the demo dataset (default page: Dataset browser)."""
    monkeypatch.setenv("XANES_CACHE", str(demo_cache))
    return AppTest.from_file(APP, default_timeout=60).run()


@pytest.fixture(scope="session")
def changed_cache(tmp_path_factory) -> Path:
    """A cache whose demo dataset was rebuilt (same size, another seed) after a tiny core CNN
    was trained on it: the run's dataset is no longer the version it saw."""
    from xanes_core.learn.config import ModelConfig
    from xanes_core.learn.training import Trainer, TrainingConfig

    root = tmp_path_factory.mktemp("changed-cache")
    path = root / "datasets" / "demo"
    dataset = generate_demo(N_SAMPLES, seed=1)
    dataset.save(path)
    config = TrainingConfig(dataset=str(path), model="core", epochs=1, augment=False,
                            model_config=ModelConfig(filters=(4, 8, 4), dense_units=(16, 8)))
    final = Trainer(config, out=root / "runs" / "before-rebuild", dataset=dataset).start().join()
    assert final.status == "completed", final.message
    generate_demo(N_SAMPLES, seed=2).save(path)
    return root
