"""Where the tool keeps its datasets and runs (``cache/`` beside the package, or $XANES_CACHE)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    return Path(os.environ.get("XANES_CACHE", Path(__file__).resolve().parent.parent / "cache"))


def datasets_root() -> Path:
    return cache_root() / "datasets"


def runs_root() -> Path:
    return cache_root() / "runs"


def default_demo_path() -> Path:
    return datasets_root() / "demo"
