"""Where the tool keeps its datasets, runs and logs (``cache/`` beside the package, or $XANES_CACHE)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    return Path(os.environ.get("XANES_CACHE", Path(__file__).resolve().parent.parent / "cache"))


def datasets_root() -> Path:
    return cache_root() / "datasets"


def runs_root() -> Path:
    return cache_root() / "runs"


def logs_root() -> Path:
    """Where the CLI writes what must not reach the terminal: library start-up noise and the
    tracebacks of unexpected errors."""
    return cache_root() / "logs"


def default_demo_path() -> Path:
    return datasets_root() / "demo"
