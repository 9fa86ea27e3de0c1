"""Atomic writes to cache/: write into a temporary sibling, then rename over the target.

A reader therefore sees either the old complete file/folder or the new complete one, never a
half-written one, even if the writing process is killed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator


def write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    """numpy scalars and arrays appear in metrics and configs; JSON needs plain types."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


@contextmanager
def atomic_directory(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``path`` in one rename.

    An existing folder at ``path`` is moved aside first and removed only after the new one is
    in place, so a crash leaves either the old or the new folder (plus a stray backup at most).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    backup = None
    if path.exists():
        backup = path.parent / f".{path.name}.old-{os.getpid()}"
        shutil.rmtree(backup, ignore_errors=True)
        os.replace(path, backup)
    os.replace(tmp, path)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)
