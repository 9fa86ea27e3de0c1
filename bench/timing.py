"""Timing shared by the bench scripts (run as scripts, so bench/ is on sys.path)."""

from __future__ import annotations

import time
from typing import Callable


def best_of(function: Callable[[], object], repeat: int = 3, clock: Callable[[], float] = time.perf_counter) -> float:
    """The shortest of ``repeat`` runs in seconds of ``clock`` (wall time, or e.g. ``time.thread_time``)."""
    best = float("inf")
    for _ in range(repeat):
        start = clock()
        function()
        best = min(best, clock() - start)
    return best
