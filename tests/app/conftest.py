"""AppTest fixtures: a small demo dataset in a cache of its own, and an app runner.

The dataset lives in a folder no other test writes to, and every app test points $XANES_CACHE
there (after the suite-wide isolated cache), so other tests' datasets cannot leak in.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from xanes_core.demo import generate_demo

APP = str(Path(__file__).resolve().parents[2] / "app.py")
N_SAMPLES = 600


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


def assert_clean(app: AppTest) -> None:
    """No exception box and no error message on the page."""
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def rerun_until(page: AppTest, done, timeout: float, describe, pause: float = 0.3) -> AppTest:
    """Rerun ``page`` (as the page's own polling would) until ``done(page)``; after ``timeout``
    fail with ``describe()``, which is called then so it can report the state at that moment."""
    deadline = time.monotonic() + timeout
    while not done(page):
        assert time.monotonic() < deadline, f"timed out waiting for {describe()}"
        time.sleep(pause)
        page.run()
    return page
