"""Building datasets from outside data: ``fetch-mp`` and ``build-dataset``.

``fetch-mp`` builds the real dataset from a topology catalogue and the Materials Project; it
prints one JSON object (the build's funnel) on stdout and a progress line per chunk on stderr.
The API key is read from ``MP_API_KEY`` only: a key on the command line would end up in shell
history and process listings. Like the dashboard, it goes only to the official endpoint or to
those listed in ``XANES_MP_KEY_ENDPOINTS`` (:mod:`xanes_core.sources.api_key`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(commands: argparse._SubParsersAction) -> None:
    fetch = commands.add_parser("fetch-mp", help="build the real dataset from the Materials Project "
                                "(API key from $MP_API_KEY)")
    fetch.add_argument("--labels", required=True, metavar="FILE", help="topology catalogue (TQC, Materiae, CSV)")
    fetch.add_argument("--format", choices=["tqc", "materiae", "csv"], help="catalogue format (default: guessed)")
    fetch.add_argument("--endpoint", metavar="URL", help="Materials Project API endpoint (default: the public one; "
                       "another one must be listed in $XANES_MP_KEY_ENDPOINTS)")
    fetch.add_argument("--out", metavar="DIR", help="dataset folder (default cache/datasets/materials-project)")
    fetch.set_defaults(handler=fetch_mp)

    local = commands.add_parser("build-dataset", help="build a dataset from your own spectrum files listed in a "
                                "manifest CSV (material_id, formula, space_group, label, element, file)")
    local.add_argument("--manifest", required=True, metavar="FILE.csv",
                       help="one row per spectrum; file paths relative to the manifest")
    local.add_argument("--out", required=True, metavar="DIR", help="dataset folder (new, empty, or a dataset)")
    local.set_defaults(handler=build_dataset)


def stderr_progress(done: int, total: int, message: str) -> None:
    """A plain progress line (works in logs and CI, unlike a redrawn bar)."""
    width = 24
    filled = int(width * done / total) if total else width
    print(f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {message}",
          file=sys.stderr, flush=True)


def fetch_mp(args: argparse.Namespace) -> dict[str, Any]:
    from xanes_core.sources.labels import read_labels
    from xanes_core.sources.materials_project import build_mp_dataset

    catalogue = read_labels(args.labels, format=args.format)
    return build_mp_dataset(catalogue, args.out, endpoint=args.endpoint, progress=stderr_progress).to_dict()


def build_dataset(args: argparse.Namespace) -> dict[str, Any]:
    """``build-dataset``: the JSON of :meth:`LocalBuildResult.to_dict` (dropped rows in drops.csv)."""
    from xanes_core.sources.local_files import build_local_dataset

    return build_local_dataset(args.manifest, args.out).to_dict()
