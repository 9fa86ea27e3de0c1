"""Raw Materials Project answers cached as JSON so an interrupted build resumes.

Layout: ``cache/mp_raw/<source>/chunk-<kind>-<query>.json`` where ``<source>`` hashes the
endpoint and the database version (a new MP release starts a fresh cache) and ``<query>`` hashes
the request (its kind and the ids asked for). Each file is written atomically, so a chunk is
either fully cached or absent; a corrupt one is treated as absent and fetched again.

Only JSON, never pickle: these are documents from the network. Nothing about the caller (in
particular not the API key) goes into names or contents.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from xanes_core import atomic
from xanes_core.paths import cache_root

CACHE_VERSION = 1


class RawCache:
    """Chunks of raw documents for one endpoint and database version."""

    def __init__(self, endpoint: str, db_version: str, root: Path | None = None) -> None:
        source = _digest({"endpoint": endpoint, "db_version": db_version})
        self.folder = (root or cache_root() / "mp_raw") / source

    def path(self, kind: str, ids: list[str]) -> Path:
        return self.folder / f"chunk-{kind}-{_digest({'v': CACHE_VERSION, 'ids': sorted(ids)})}.json"

    def get(self, kind: str, ids: list[str]) -> list[dict[str, Any]] | None:
        """The cached documents for this request, or ``None`` when not (validly) cached."""
        try:
            content = json.loads(self.path(kind, ids).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(content, dict) or content.get("version") != CACHE_VERSION:
            return None
        docs = content.get("docs")
        return docs if isinstance(docs, list) else None

    def put(self, kind: str, ids: list[str], docs: list[dict[str, Any]]) -> None:
        atomic.write_json(self.path(kind, ids), {
            "version": CACHE_VERSION, "kind": kind, "ids": sorted(ids), "docs": docs,
        })


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]
