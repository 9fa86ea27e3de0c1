"""What the AppTests share besides fixtures: the app's path, the demo size, and two checks."""

from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")
N_SAMPLES = 600


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
