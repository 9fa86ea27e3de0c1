"""A Materials Project build running in a background thread, watched and stopped from outside.

Why this exists: :func:`~xanes_core.sources.materials_project.build_mp_dataset` takes minutes
to hours for the full catalogue. A dashboard cannot block on it, and Streamlit must not be
called from another thread, so the build reports into a locked :class:`BuildStatus` that the
page polls (the same pattern as :mod:`xanes_core.learn.training`). Nothing here imports Streamlit; a
notebook can use :class:`BuildJob` the same way.

Only one build runs per process: two builds would hit the same API key's rate limit and the
same raw-response cache. The API key is handed to the worker thread as an argument and never
kept on the job, in its status or in any message it records.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from xanes_core.errors import SourceError, XanesError
from xanes_core.paths import datasets_root
from xanes_core.sources.materials_project import BuildResult, build_mp_dataset
from xanes_core.sources.api_key import resolve_access
from xanes_core.sources.mp_client import BuildCancelled

Build = Callable[..., BuildResult]

_DATASET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_RESERVED_NAMES = frozenset({"demo"})
_one_build = threading.Lock()  # held by the running build, whichever job started it


@dataclass(frozen=True)
class BuildStatus:
    """A consistent copy of a build's state at one moment (what a page renders)."""

    status: str = "idle"  # idle | running | completed | failed | cancelled
    done: int = 0
    total: int = 1
    message: str = ""
    error: str = ""
    result: BuildResult | None = None

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def fraction(self) -> float:
        """Share of the work done, clipped to [0, 1] (the total is refined during the build)."""
        return min(max(self.done / self.total, 0.0), 1.0) if self.total > 0 else 0.0


def dataset_folder(name: str) -> Path:
    """The folder under ``cache/datasets/`` a build named ``name`` writes to.

    The name must be a plain folder name (no paths, so a build cannot write outside the
    cache) and not the demo's, which the dashboard rebuilds on its own.
    """
    name = name.strip()
    if not _DATASET_NAME.match(name) or name in _RESERVED_NAMES:
        raise SourceError(
            f"'{name}' cannot be a dataset name: use letters, digits, '.', '_' or '-' (up to 64, "
            f"not {', '.join(sorted(_RESERVED_NAMES))})."
        )
    return datasets_root() / name


class BuildJob:
    """Starts one build at a time, records its progress, and stops it on request.

    ``build`` is the function that does the work (tests may pass a stand-in); it receives the
    catalogue, ``out``, ``api_key``, ``endpoint``, ``progress``, ``cancel`` and any extra
    options given to :meth:`start`.
    """

    def __init__(self, build: Build = build_mp_dataset) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._status = BuildStatus()
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

    def status(self) -> BuildStatus:
        with self._lock:
            return self._status

    def start(self, labels: pd.DataFrame, *, api_key: str | None, endpoint: str | None = None,
              out: str | Path | None = None, visitor: bool = False, **options: Any) -> None:
        """Start a build in the background; returns at once.

        Raises :class:`SourceError` straight away when no key may be used for ``endpoint``
        (the server's ``MP_API_KEY`` goes only to the official or operator-listed endpoints,
        :func:`~xanes_core.sources.api_key.resolve_access`; ``visitor``: asked for from the
        dashboard) or a build is already running in this process; problems found later (a refused
        key, an unreachable server) end the build as ``failed`` with the message in
        :attr:`BuildStatus.error`.
        """
        access = resolve_access(api_key, endpoint, visitor)
        if not _one_build.acquire(blocking=False):
            raise SourceError("A Materials Project build is already running; stop it or wait for it to finish.")
        self._cancel = threading.Event()
        self._set(status="running", done=0, total=1, message="Starting", error="", result=None)
        kwargs = {**options, "api_key": access.key, "endpoint": access.endpoint, "out": out,
                  "progress": self._progress, "cancel": self._cancel}
        self._thread = threading.Thread(target=self._run, args=(labels, kwargs, access.key),
                                        name="mp-build", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the build to stop; it ends as ``cancelled`` at its next chunk or retry wait."""
        self._cancel.set()
        with self._lock:
            if self._status.running:
                self._status = replace(self._status, message="Stopping after the current request…")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the build has ended (for scripts and tests); False on timeout."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.status().running

    def _run(self, labels: pd.DataFrame, kwargs: dict[str, Any], key: str) -> None:
        try:
            result = self._build(labels, **kwargs)
        except BuildCancelled as exc:
            self._set(status="cancelled", error=_redact(str(exc), key))
        except XanesError as exc:  # a refused key, an unreachable server, an unusable out folder
            self._set(status="failed", error=_redact(str(exc), key))
        except Exception as exc:  # noqa: BLE001 - a bug must still end the job, not hang the page
            self._set(status="failed", error=_redact(f"Unexpected error ({type(exc).__name__}): {exc}", key))
        else:
            self._set(status="completed", result=result,
                      message=f"Saved {result.n_with_all_spectra} materials to {result.path}")
        finally:
            _one_build.release()

    def _progress(self, done: int, total: int, message: str) -> None:
        self._set(done=done, total=total, message=message)

    def _set(self, **changes: Any) -> None:
        with self._lock:
            self._status = replace(self._status, **changes)


def _redact(message: str, key: str) -> str:
    """Belt and braces: the client never puts the key in a message, and neither may we."""
    return message.replace(key, "***") if key else message
