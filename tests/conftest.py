"""Shared test fixtures: the real spectrum files in ../shared/fixtures, a small demo dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.postgres import postgres_url  # noqa: F401 - a fixture, shared by the tuning tests

SHARED_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """../shared/fixtures, or a skip that says why when this checkout has none beside it."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"shared fixtures not found at {SHARED_FIXTURES} (clone ../shared beside the repo)")
    return SHARED_FIXTURES


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Every test writes its datasets and runs under a temporary cache/, never the user's."""
    monkeypatch.setenv("XANES_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def demo_full():
    """The default-size demo dataset (16,458 samples), built once per test session (~6 s)."""
    from xanes_core.data.demo import generate_demo

    return generate_demo()


@pytest.fixture(scope="session")
def demo_small():
    """A 600-sample demo dataset for fast tests of pages, plots and training plumbing."""
    from xanes_core.data.demo import generate_demo

    return generate_demo(n_samples=600, seed=1)


@pytest.fixture(scope="session")
def demo_small_path(demo_small, tmp_path_factory):
    """``demo_small`` saved to a folder (for CLI and page tests that load from disk)."""
    path = tmp_path_factory.mktemp("datasets") / "demo-small"
    demo_small.save(path)
    return path


@pytest.fixture(scope="session")
def demo_tiny_path(tmp_path_factory):
    """A 200-sample demo dataset on disk: tuning tests run many short trials on it."""
    from xanes_core.data.demo import generate_demo

    path = tmp_path_factory.mktemp("datasets") / "demo-tiny"
    generate_demo(n_samples=200, seed=1).save(path)
    return path
