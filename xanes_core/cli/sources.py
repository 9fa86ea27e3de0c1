"""``python -m xanes_core fetch-mp``: the handler behind the sub-command.

Prints one JSON object (the build's funnel) on stdout and a progress line per chunk on stderr.
The API key is read from ``MP_API_KEY`` only: a key on the command line would end up in shell
history and process listings. :class:`~xanes_core.errors.XanesError` propagates so the CLI
prints it on one line and exits with code 2.
"""

from __future__ import annotations

import json
import sys

from xanes_core.sources.labels import read_labels
from xanes_core.sources.materials_project import build_mp_dataset


def stderr_progress(done: int, total: int, message: str) -> None:
    """A plain progress line (works in logs and CI, unlike a redrawn bar)."""
    width = 24
    filled = int(width * done / total) if total else width
    print(f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {message}",
          file=sys.stderr, flush=True)


def run_fetch_mp(labels: str, format: str | None, endpoint: str | None, out: str | None) -> int:
    """Build the Materials Project dataset from a label catalogue; print its funnel as JSON."""
    catalogue = read_labels(labels, format=format)
    result = build_mp_dataset(catalogue, out, endpoint=endpoint, progress=stderr_progress)
    print(json.dumps(result.to_dict(), indent=2, default=str))
    return 0
