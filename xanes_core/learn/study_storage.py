"""Where tuning studies live: an embedded SQLite file by default, or any SQLAlchemy database URL.

One machine needs no set-up: studies go to ``cache/studies/optuna.db`` (SQLite). Many worker
processes on many machines share a study through one database server (PostgreSQL), which is
Optuna's own distributed mode: every worker opens the same URL, asks the database for its next
trial (trial numbers are assigned under a row lock, so never twice) and writes its results back.

A worker that dies mid-trial stops its heartbeat (every :data:`HEARTBEAT_S` seconds); once the
heartbeat is :data:`GRACE_S` seconds old, the next worker to start a trial marks that trial
failed. A crash therefore leaves a failed trial, never a corrupt study or one stuck "running".

No TensorFlow here; Optuna and SQLAlchemy are imported with this module.
"""

from __future__ import annotations

import logging
import random
import time
import warnings
from pathlib import Path

import optuna
import sqlalchemy
from sqlalchemy.engine import make_url

from xanes_core.errors import XanesError
from xanes_core.paths import cache_root

HEARTBEAT_S = 5
GRACE_S = 20
DEFAULT_FILE = "optuna.db"
SCHEMA_RACE_RETRIES = 5
SQLITE_WAIT_S = 60  # how long a writer waits for another worker's write to the SQLite file


def studies_root() -> Path:
    return cache_root() / "studies"


def default_storage_url() -> str:
    return f"sqlite:///{studies_root() / DEFAULT_FILE}"


def resolve_url(url: str | None) -> str:
    """The URL to open: the embedded default when none is given; ``postgresql://`` (and
    ``postgres://``) use the installed psycopg driver rather than SQLAlchemy's default."""
    if not url:
        return default_storage_url()
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def masked(url: str | None) -> str:
    """The storage URL with any password replaced by ``***`` (safe to print and to save)."""
    url = resolve_url(url)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (sqlalchemy.exc.ArgumentError, ValueError):
        return "<not a database URL>"


def quiet_optuna() -> None:
    """Optuna's log lines and experimental-feature warnings stay off the terminal: trials are
    reported by xanes_core itself (CLI JSON, the Tuning page, each trial's attributes)."""
    optuna.logging.disable_default_handler()
    logger = logging.getLogger("optuna")
    if not any(isinstance(handler, logging.NullHandler) for handler in logger.handlers):
        logger.addHandler(logging.NullHandler())
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def open_storage(url: str | None = None) -> optuna.storages.RDBStorage:
    """The study storage at ``url`` (default: the embedded file), with heartbeats on.

    XanesError, with the password masked, when the URL is malformed, names an unknown database
    kind, or the database cannot be reached.
    """
    quiet_optuna()
    url = resolve_url(url)
    try:
        parsed = make_url(url)
    except (sqlalchemy.exc.ArgumentError, ValueError):
        raise XanesError(f"'{url}' is not a database URL; give e.g. sqlite:///path/to/studies.db or "
                         "postgresql://user:password@host:5432/database.") from None
    engine_kwargs = {}
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine_kwargs = {"connect_args": {"timeout": SQLITE_WAIT_S}}
    for attempt in range(SCHEMA_RACE_RETRIES):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, heartbeat_interval=HEARTBEAT_S,
                                              grace_period=GRACE_S)
        except (sqlalchemy.exc.SQLAlchemyError, ImportError, ValueError) as exc:
            if _lost_schema_race(exc) and attempt + 1 < SCHEMA_RACE_RETRIES:
                time.sleep(random.uniform(0.1, 1.0))
                continue
            reason = _first_line(str(exc)).replace(parsed.password or "\0", "***")
            raise XanesError(f"Cannot open the study storage {masked(url)}: {reason}") from None
    raise AssertionError("unreachable")


def _lost_schema_race(exc: Exception) -> bool:
    """Two workers creating Optuna's tables in a new database at once: the loser sees the
    winner's tables appear under it; opening again finds them complete."""
    return isinstance(exc, (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError)) or \
        "already exists" in str(exc)


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "unknown error"


def study_names(storage: optuna.storages.BaseStorage) -> list[str]:
    return sorted(summary.study_name for summary in storage.get_all_studies())
