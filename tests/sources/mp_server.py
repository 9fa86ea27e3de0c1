"""A local stand-in for the Materials Project API, for tests with the real ``MPRester``.

Routes are those the ``mp_api`` 0.46 client calls (read from its source):

- ``GET /heartbeat``: ``{"db_version", "access_controlled_batch_ids", "version"}``; read
  twice when an ``MPRester`` opens (database version and emmet version check), no key needed;
- ``GET /materials/summary/`` with ``material_ids`` or ``formula`` (comma-separated);
- ``GET /materials/xas/`` with ``task_ids``, ``edge``, ``spectrum_type``;

both with ``_fields`` / ``_all_fields``, ``_limit`` / ``_skip`` pagination and the envelope
``{"data": [...], "meta": {"total_doc": n, ...}}``. Every data route checks the
``x-api-key`` header (401 otherwise), records the request, and can be told to answer the next
requests with given error statuses (429, 503, ...). The headers of every request that reaches
the socket, whatever its route, are recorded too (:meth:`FakeMaterialsProject.received`), so a
test can show that a key never arrived.

Documents are built with emmet-core's own models (``XASDoc.from_spectrum``,
``SummaryDoc.from_structure``) from the real Materials Project spectra in
``../shared/fixtures/spectra/mp``; ids are written back as the API writes them (``mp-24850``).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
from emmet.core.summary import SummaryDoc
from emmet.core.xas import XASDoc
from pymatgen.analysis.xas.spectrum import XAS
from pymatgen.core import Composition, Lattice, Structure

from xanes_core.data.elements import k_edge_energy

DB_VERSION = "2025.09.25"
EMMET_VERSION = "0.87.3"


# ------------------------------------------------------------------------------ documents
def xas_doc(material_id: str, structure: Structure, element: str,
            energy: np.ndarray, mu: np.ndarray) -> dict[str, Any]:
    """One element-averaged K-edge XANES document, as ``/materials/xas/`` returns it."""
    spectrum = XAS(list(energy), list(mu), structure, element, edge="K", spectrum_type="XANES")
    doc = XASDoc.from_spectrum(spectrum, task_id=material_id).model_dump(mode="json")
    doc["task_id"] = material_id
    return doc


def summary_doc(material_id: str, structure: Structure, icsd: list[int] = ()) -> dict[str, Any]:
    """A summary document with symmetry and (optionally) ICSD references."""
    doc = SummaryDoc.from_structure(
        meta_structure=structure, material_id=material_id, deprecated=False, theoretical=not icsd,
        database_IDs={"icsd": [f"icsd-{i}" for i in icsd]} if icsd else {},
    ).model_dump(mode="json")
    doc["material_id"] = material_id
    return doc


@dataclass
class Material:
    """A material the fake server knows, with the elements it has spectra for."""

    material_id: str
    structure: Structure
    icsd: list[int] = field(default_factory=list)
    spectra_for: list[str] | None = None  # None: every element


def real_spectra(fixtures: Path) -> dict[str, tuple[Structure, np.ndarray, np.ndarray]]:
    """Co (LiCoO2), Fe (mp-13) and Mn (MnO) K-edge XANES from real MP documents."""
    mp = fixtures / "spectra" / "mp"
    co = json.loads((mp / "LiCoO2_k_xanes.json").read_text())
    mn = json.loads((mp / "sample_spectrum_c.txt").read_text())
    fe = np.loadtxt(mp / "xas.XANES.K.Fe.mp-13.tsv", skiprows=4, usecols=(0, 1))
    iron = Structure(Lattice.cubic(2.86), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    return {
        "Co": (Structure.from_dict(co["structure"]), np.array(co["x"]), np.array(co["y"])),
        "Mn": (Structure.from_dict(mn["structure"]), np.array(mn["x"]), np.array(mn["y"])),
        "Fe": (iron, fe[:, 0], fe[:, 1]),
    }


def shifted(energy: np.ndarray, mu: np.ndarray, source: str, target: str,
            scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """A real spectrum moved from one element's K edge to another's (a synthetic stand-in)."""
    return energy - k_edge_energy(source) + k_edge_energy(target), mu * scale


def documents(materials: list[Material], fixtures: Path
              ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Summary and XAS documents; elements without a real spectrum get a shifted Co one."""
    real = real_spectra(fixtures)
    _, co_energy, co_mu = real["Co"]
    summaries, spectra = [], []
    for material in materials:
        summaries.append(summary_doc(material.material_id, material.structure, material.icsd))
        elements = [e.symbol for e in material.structure.composition.elements]
        for n, element in enumerate(material.spectra_for if material.spectra_for is not None else elements):
            if element in real:
                energy, mu = real[element][1], real[element][2]
            else:
                energy, mu = shifted(co_energy, co_mu, "Co", element, 1.0 + 0.1 * n)
            spectra.append(xas_doc(material.material_id, material.structure, element, energy, mu))
    return summaries, spectra


# --------------------------------------------------------------------------------- server
class FakeMaterialsProject:
    """The HTTP server; use as a context manager. ``endpoint`` goes to ``MPRester``."""

    def __init__(self, summaries: list[dict[str, Any]], xas: list[dict[str, Any]], api_key: str):
        self.summaries, self.xas, self.api_key = summaries, xas, api_key
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.headers: list[dict[str, str]] = []  # every request's headers, any route
        self._failures: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def __enter__(self) -> "FakeMaterialsProject":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, route: str, statuses: list[int]) -> None:
        """Answer the next requests to ``route`` ("summary" or "xas") with these statuses."""
        with self._lock:
            self._failures.setdefault(route, []).extend(statuses)

    def count(self, route: str) -> int:
        return Counter(r for r, _ in self.requests)[route]

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()

    def received(self, secret: str, since: int = 0) -> bool:
        """Whether any request (from number ``since`` on) carried ``secret`` in any header."""
        with self._lock:
            return any(secret in value for headers in self.headers[since:] for value in headers.values())

    def record_headers(self, headers: dict[str, str]) -> None:
        with self._lock:
            self.headers.append(headers)

    # ----------------------------------------------------------------- request handling
    def answer(self, path: str, params: dict[str, str], key: str | None) -> tuple[int, Any]:
        if path.rstrip("/") == "/heartbeat":
            return 200, {"db_version": DB_VERSION, "access_controlled_batch_ids": [],
                         "version": EMMET_VERSION}
        route = {"/materials/summary": "summary", "/materials/xas": "xas"}.get(path.rstrip("/"))
        if route is None:
            return 404, {"detail": "Not Found"}
        with self._lock:
            self.requests.append((route, params))
            failures = self._failures.get(route)
            status = failures.pop(0) if failures else None
        if key != self.api_key:
            return 401, {"detail": "Invalid API key"}
        if status is not None:
            return status, {"detail": f"Simulated error {status}"}
        docs = [d for d in (self.summaries if route == "summary" else self.xas) if _matches(d, params)]
        total = len(docs)
        skip, limit = int(params.get("_skip", 0)), int(params.get("_limit", 1000))
        page = [_project(d, params) for d in docs[skip:skip + limit]]
        return 200, {"data": page, "meta": {"total_doc": total, "max_limit": 1000,
                                            "default_fields": [], "facet": {}}}


def _matches(doc: dict[str, Any], params: dict[str, str]) -> bool:
    def among(name: str, value: str) -> bool:
        return name not in params or value in params[name].split(",")

    if "formula" in params:
        wanted = {Composition(f).reduced_formula for f in params["formula"].split(",")}
        if Composition(doc["formula_pretty"]).reduced_formula not in wanted:
            return False
    return (among("material_ids", str(doc.get("material_id"))) and among("task_ids", str(doc.get("task_id")))
            and among("edge", str(doc.get("edge"))) and among("spectrum_type", str(doc.get("spectrum_type"))))


def _project(doc: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    if params.get("_all_fields") in ("True", "true") or "_fields" not in params:
        return doc
    return {k: doc[k] for k in params["_fields"].split(",") if k in doc}


def _handler_for(server: FakeMaterialsProject) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            server.record_headers(dict(self.headers.items()))
            url = urlparse(self.path)
            params = {k: v[-1] for k, v in parse_qs(url.query).items()}
            status, body = server.answer(url.path, params, self.headers.get("x-api-key"))
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            """Quiet: pytest output should show failures, not access logs."""

    return Handler
