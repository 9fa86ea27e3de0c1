"""Build the paper's dataset from a topology catalogue and the Materials Project.

The funnel, as in the paper: catalogue entries -> found on the Materials Project -> with a
K-edge XANES for *every* element (and every element has a model channel) -> resampled onto
the element grids, labelled, split and saved as a :class:`XanesDataset`. Every material that
leaves the funnel gets a reason (see :data:`DROP_REASONS`), counted in the result and listed one
per row in ``drops.csv`` inside the dataset folder.

ICSD ids: the Materials Project API has no search by ICSD id, but each summary document lists
the ICSD entries it matches in ``database_IDs["icsd"]`` (``"icsd-42545"``). Catalogue rows
that give only an ICSD id (the TQC export) are therefore resolved by searching the summary
route by the row's formula and keeping the material whose ``database_IDs`` contains that id
(the lowest material number if several do). A row whose ICSD id is on no material of that
formula is dropped as ``icsd_not_on_mp``; formula plus space group alone is not used, since
polymorphs would make it a guess.

Work is done in chunks of ``chunk_size`` materials; each raw answer is cached
(:mod:`xanes_core.sources.mp_cache`), so a stopped or crashed build resumes where it was. The
function is safe to run in a background thread: it reports through ``progress(done, total,
message)``, honours ``cancel`` between chunks and while waiting to retry, and writes the dataset
only at the end, atomically. A build whose answers are all cached sends no data request, so it
does not check the key (opening the client still reads the server's heartbeat for the database
version, which names the cache).
"""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from xanes_core.data.dataset import XanesDataset, check_replaceable
from xanes_core.data.elements import CHANNELS, channel_index
from xanes_core.data.preprocess import assign_splits, resample
from xanes_core.data.symmetry import symmetry_info
from xanes_core.errors import SourceError, SpectrumError
from xanes_core.paths import datasets_root
from xanes_core.sources.mp_cache import RawCache
from xanes_core.sources.api_key import resolve_access
from xanes_core.sources.mp_client import BuildCancelled, RetryPolicy, call, open_client

ProgressFn = Callable[[int, int, str], None]

SOURCE = "Materials Project"
SUMMARY_FIELDS = ["material_id", "formula_pretty", "elements", "symmetry", "database_IDs"]
RESOLVE_FIELDS = ["material_id", "database_IDs"]
XAS_FIELDS = ["task_id", "absorbing_element", "edge", "spectrum_type", "spectrum"]
DROP_REASONS = {
    "icsd_not_on_mp": "the ICSD id is on no Materials Project material of that formula",
    "not_on_mp": "the Materials Project id is not (or no longer) in the database",
    "duplicate": "another catalogue row already gave this Materials Project material",
    "element_without_channel": "an element has no model channel (e.g. H, He, noble gases)",
    "missing_k_xanes": "an element has no K-edge XANES on the Materials Project",
    "unusable_spectrum": "a spectrum could not be resampled (bad energies or values)",
}
DROPS_FILE = "drops.csv"


@dataclass(frozen=True)
class BuildResult:
    """What a build produced: where, and the funnel with reasons for every drop."""

    path: Path
    n_catalogue: int
    n_on_mp: int
    n_with_all_spectra: int
    n_topological: int
    n_trivial: int
    dropped: dict[str, int]
    db_version: str
    drops: pd.DataFrame = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the CLI prints this); per-material drops are in drops.csv."""
        summary = {k: v for k, v in asdict(self).items() if k != "drops"}
        return {**summary, "path": str(self.path), "drops_csv": str(self.path / DROPS_FILE)}


def build_mp_dataset(
    labels: pd.DataFrame,
    out: str | Path | None = None,
    *,
    api_key: str | None = None,
    endpoint: str | None = None,
    chunk_size: int = 100,
    seed: int = 0,
    retry: RetryPolicy = RetryPolicy(),
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> BuildResult:
    """Fetch, filter, resample and save; ``labels`` is :func:`~.labels.read_labels` output.

    ``out`` defaults to ``cache/datasets/materials-project``. The key is ``api_key``, else
    ``MP_API_KEY`` if ``endpoint`` may receive it (:func:`~.api_key.resolve_access`). Raises
    :class:`SourceError` (no usable key, a refused key, the server unreachable after
    retries, nothing left after filtering) or :class:`BuildCancelled`.
    """
    out = Path(out) if out is not None else datasets_root() / "materials-project"
    access = resolve_access(api_key, endpoint)
    check_replaceable(out)  # before any request: never replace a folder that is not a dataset
    report = progress or (lambda done, total, message: None)
    report(0, 1, "Connecting to the Materials Project")
    client = open_client(access.key, access.endpoint, retry, cancel, follow_redirects=not access.server_key)
    fetch = _Fetcher(RawCache(client.endpoint, client.db_version), retry, access.key, cancel)
    catalogue = labels.reset_index(drop=True)
    steps = _Steps(report, 1)
    mp_ids = _resolve_ids(catalogue, client, fetch, steps, chunk_size)
    summaries, spectra = _fetch_materials(mp_ids, client, fetch, steps, chunk_size)
    steps.advance("Resampling and saving the dataset")
    dataset, drops = _assemble(catalogue, mp_ids, summaries, spectra, seed)
    result = _result(out, catalogue, summaries, mp_ids, dataset, drops, client.db_version)
    dataset.provenance = {
        "kind": "materials_project", "name": out.name, "source": SOURCE,
        "endpoint": client.endpoint, "db_version": client.db_version, "seed": seed,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "funnel": {k: v for k, v in result.to_dict().items() if k.startswith("n_") or k == "dropped"},
    }
    dataset.save(out, extra_files={DROPS_FILE: drops.to_csv(index=False).encode("utf-8")})
    steps.finish(f"Saved {dataset.n_samples} materials to {out}")
    return result


def _resolve_ids(catalogue: pd.DataFrame, client: Any, fetch: "_Fetcher", steps: "_Steps",
                 chunk_size: int) -> list[str | None]:
    """Each catalogue row's material id: its own, else the one its ICSD id resolves to."""
    icsd_only = catalogue[catalogue["mp_id"].isna()]
    formula_chunks = list(_chunks(sorted(set(icsd_only["formula"].dropna())), chunk_size))
    # Material chunks are not known yet: count the catalogue's, refined in _fetch_materials.
    steps.total = len(formula_chunks) + -(-len(catalogue) // chunk_size) + 1
    icsd_map: dict[int, str] = {}
    for chunk in formula_chunks:
        steps.advance(f"Finding ICSD entries on the Materials Project ({len(chunk)} formulas)")
        docs = fetch("icsd", chunk, lambda c=chunk: client.materials.summary.search(
            formula=c, fields=RESOLVE_FIELDS))
        icsd_map.update(_icsd_index(docs, icsd_map))
    return [_material_id(mp_id, icsd, icsd_map)
            for mp_id, icsd in zip(catalogue["mp_id"], catalogue["icsd"])]


def _fetch_materials(mp_ids: list[str | None], client: Any, fetch: "_Fetcher", steps: "_Steps",
                     chunk_size: int
                     ) -> tuple[dict[str, dict[str, Any]], dict[tuple[str, str], dict[str, Any]]]:
    """Summary documents by material id, and K-edge XANES by (material id, element)."""
    wanted = list(dict.fromkeys(m for m in mp_ids if m is not None))
    material_chunks = list(_chunks(wanted, chunk_size))
    steps.total = steps.done + len(material_chunks) + 1
    summaries: dict[str, dict[str, Any]] = {}
    spectra: dict[tuple[str, str], dict[str, Any]] = {}
    for number, chunk in enumerate(material_chunks):
        first = number * chunk_size + 1
        steps.advance(f"Fetching structures and K-edge XANES of materials {first}-"
                      f"{first + len(chunk) - 1} of {len(wanted)}")
        for doc in fetch("summary", chunk, lambda c=chunk: client.materials.summary.search(
                material_ids=c, fields=SUMMARY_FIELDS)):
            summaries[str(doc["material_id"])] = doc
        for doc in fetch("xas", chunk, lambda c=chunk: _search_xas(client, c)):
            spectra.setdefault((str(doc["task_id"]), str(doc["absorbing_element"])), doc)
    return summaries, spectra


# ------------------------------------------------------------------------------- fetching
class _Fetcher:
    """Cached, retried, cancellable requests: one call per chunk, JSON on disk per chunk."""

    def __init__(self, cache: RawCache, retry: RetryPolicy, key: str,
                 cancel: threading.Event | None) -> None:
        self.cache, self.retry, self.key, self.cancel = cache, retry, key, cancel

    def __call__(self, kind: str, ids: list[str], request: Callable[[], list[dict[str, Any]]]
                 ) -> list[dict[str, Any]]:
        if self.cancel is not None and self.cancel.is_set():
            raise BuildCancelled(
                "The Materials Project build was stopped; what was fetched is cached and the "
                "next build resumes from there.")
        cached = self.cache.get(kind, ids)
        if cached is not None:
            return cached
        docs = [dict(doc) for doc in call(request, self.retry, self.key, self.cancel)]
        self.cache.put(kind, ids, docs)
        return docs


def _search_xas(client: Any, ids: list[str]) -> list[dict[str, Any]]:
    from emmet.core.types.enums import XasEdge, XasType

    return client.materials.xas.search(
        task_ids=ids, edge=XasEdge.K, spectrum_type=XasType.XANES, fields=XAS_FIELDS)


def _icsd_index(docs: list[dict[str, Any]], known: dict[int, str]) -> dict[int, str]:
    """ICSD id -> material id from summary docs; the lowest material number wins ties."""
    index: dict[int, str] = {}
    for doc in sorted(docs, key=lambda d: _id_number(str(d["material_id"]))):
        for ref in (doc.get("database_IDs") or {}).get("icsd", []):
            digits = re.search(r"(\d+)$", str(ref))
            if digits and int(digits.group(1)) not in known:
                index.setdefault(int(digits.group(1)), str(doc["material_id"]))
    return index


def _material_id(mp_id: Any, icsd: Any, icsd_map: dict[int, str]) -> str | None:
    """The catalogue's MP id, else the one its ICSD id resolved to, else ``None``."""
    if pd.notna(mp_id):
        return str(mp_id)
    return icsd_map.get(int(icsd)) if pd.notna(icsd) else None


def _id_number(material_id: str) -> tuple[str, int]:
    prefix, _, number = material_id.partition("-")
    return (prefix, int(number) if number.isdigit() else 0)


# ------------------------------------------------------------------------------- assembly
def _assemble(catalogue: pd.DataFrame, mp_ids: list[str | None], summaries: dict[str, dict[str, Any]],
              spectra: dict[tuple[str, str], dict[str, Any]], seed: int
              ) -> tuple[XanesDataset, pd.DataFrame]:
    """Apply the paper's rule row by row; every dropped row gets a reason."""
    rows: list[dict[str, Any]] = []
    arrays: list[tuple[int, int, np.ndarray, float]] = []
    drops: list[dict[str, Any]] = []
    seen: set[str] = set()
    for (_, entry), mp_id in zip(catalogue.iterrows(), mp_ids):
        reason, detail, kept = _judge(entry, mp_id, seen, summaries, spectra)
        if reason:
            drops.append({
                "mp_id": mp_id, "icsd": entry["icsd"], "formula": entry["formula"],
                "label": int(entry["label"]), "reason": reason, "detail": detail,
            })
            continue
        seen.add(mp_id)
        summary = summaries[mp_id]
        space_group = int((summary.get("symmetry") or {}).get("number") or entry["space_group"])
        info = symmetry_info(space_group)
        for channel, values, coverage in kept:
            arrays.append((len(rows), channel, values, coverage))
        rows.append({
            "sample_id": mp_id, "formula": summary.get("formula_pretty") or entry["formula"],
            "elements": [CHANNELS[channel] for channel, _, _ in kept],
            "space_group": space_group, "crystal_system": info.crystal_system,
            "point_group": info.point_group, "label": int(entry["label"]), "source": SOURCE,
            "fine_class": entry["fine_class"], "icsd": entry["icsd"],
        })
    drop_table = pd.DataFrame(drops, columns=["mp_id", "icsd", "formula", "label", "reason", "detail"])
    if not rows:
        counts = drop_table["reason"].value_counts().to_dict()
        raise SourceError(
            f"None of the {len(catalogue)} catalogue materials has a K-edge XANES for every "
            f"element on the Materials Project (dropped: {counts})."
        )
    metadata = pd.DataFrame(rows)
    metadata["icsd"] = metadata["icsd"].astype("Int64")
    metadata["split"] = assign_splits(metadata, seed)
    dataset = XanesDataset(
        spectra=np.stack([a[2] for a in arrays]),
        sample_index=np.array([a[0] for a in arrays]),
        channel=np.array([a[1] for a in arrays]),
        coverage=np.array([a[3] for a in arrays]),
        metadata=metadata,
    )
    return dataset, drop_table


def _judge(entry: pd.Series, mp_id: str | None, seen: set[str],
           summaries: dict[str, dict[str, Any]], spectra: dict[tuple[str, str], dict[str, Any]]
           ) -> tuple[str, str, list[tuple[int, np.ndarray, float]]]:
    """(reason, detail, []) for a drop, or ("", "", resampled spectra by channel) to keep."""
    if mp_id is None:
        return "icsd_not_on_mp", f"ICSD {entry['icsd']} ({entry['formula']})", []
    if mp_id in seen:
        return "duplicate", mp_id, []
    if mp_id not in summaries:
        return "not_on_mp", mp_id, []
    elements = [str(s) for s in summaries[mp_id].get("elements") or []]
    without = [s for s in elements if s not in CHANNELS]
    if without:
        return "element_without_channel", " ".join(without), []
    elements.sort(key=channel_index)
    missing = [s for s in elements if (mp_id, s) not in spectra]
    if missing or not elements:
        return "missing_k_xanes", " ".join(missing), []
    kept = []
    for symbol in elements:
        spectrum = spectra[(mp_id, symbol)].get("spectrum") or {}
        try:
            values, coverage = resample(
                np.asarray(spectrum.get("x", []), dtype=float),
                np.asarray(spectrum.get("y", []), dtype=float), symbol)
        except (SpectrumError, ValueError, TypeError) as exc:
            return "unusable_spectrum", f"{symbol}: {exc}", []
        kept.append((channel_index(symbol), values, coverage))
    return "", "", kept


def _result(out: Path, catalogue: pd.DataFrame, summaries: dict[str, dict[str, Any]],
            mp_ids: list[str | None], dataset: XanesDataset, drops: pd.DataFrame, db_version: str
            ) -> BuildResult:
    labels = dataset.labels
    return BuildResult(
        path=out,
        n_catalogue=len(catalogue),
        n_on_mp=len({m for m in mp_ids if m in summaries}),
        n_with_all_spectra=dataset.n_samples,
        n_topological=int((labels == 1).sum()),
        n_trivial=int((labels == 0).sum()),
        dropped={str(k): int(v) for k, v in drops["reason"].value_counts().sort_index().items()},
        db_version=db_version,
        drops=drops,
    )


# ------------------------------------------------------------------------------- helpers
class _Steps:
    """Progress in chunk steps; the total is refined once ICSD ids are resolved."""

    def __init__(self, report: ProgressFn, total: int) -> None:
        self.report, self.total, self.done = report, total, 0

    def advance(self, message: str) -> None:
        self.report(self.done, self.total, message)
        self.done += 1

    def finish(self, message: str) -> None:
        self.report(self.total, self.total, message)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    if size < 1:
        raise SourceError("chunk_size must be at least 1.")
    for start in range(0, len(items), size):
        yield items[start:start + size]


def estimate_calls(labels: pd.DataFrame, chunk_size: int = 100) -> int:
    """How many Materials Project client calls a build of ``labels`` makes at most, before its
    cache answers any: one per chunk of formulas to resolve ICSD-only rows, then two (structures,
    K-edge XANES) per chunk of materials. Each call may page through several HTTP requests."""
    icsd_only = labels[labels["mp_id"].isna()]
    formulas = icsd_only["formula"].dropna().nunique()
    materials = labels["mp_id"].dropna().nunique() + len(icsd_only)
    return -(-formulas // chunk_size) + 2 * -(-materials // chunk_size)

