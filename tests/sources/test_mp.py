"""Materials Project ingestion against a local MP-compatible server, through the real MPRester."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Lattice, Structure

from tests.sources.mp_server import (
    FakeMaterialsProject,
    Material,
    documents,
    real_spectra,
)
from xanes_core.cli import main
from xanes_core.data.dataset import XanesDataset
from xanes_core.data.elements import channel_index
from xanes_core.data.preprocess import resample
from xanes_core.errors import DatasetError, SourceError
from xanes_core.sources.labels import read_labels
from xanes_core.sources.materials_project import DROPS_FILE, build_mp_dataset
from xanes_core.sources.mp_client import BuildCancelled, RetryPolicy, call

KEY = "Xk3tS9pQv2LmN8rB4wZy7HcJ1dFgA6eU"  # 32 characters, like a real key
FAST = RetryPolicy(attempts=3, initial_delay_s=0.001, max_delay_s=0.002)

CATALOGUE = """mp_id,icsd,formula,label
mp-24850,,LiCoO2,trivial
mp-13,,Fe,0
mp-19006,,MnO,1
,42545,Bi2Se3,TI
mp-22862,,NaCl,0
mp-23703,,LiH,0
mp-1,,Cu,0
,77777,Bi2Se3,1
mp-541837,,Bi2Se3,1
"""


def rocksalt(a: str, b: str, length: float) -> Structure:
    return Structure.from_spacegroup(225, Lattice.cubic(length), [a, b], [[0, 0, 0], [0.5, 0.5, 0.5]])


@pytest.fixture(scope="module")
def served(fixtures_dir):
    """Summary and XAS documents for a handful of materials (real spectra where there are)."""
    real = real_spectra(fixtures_dir)
    bi2se3 = Structure.from_spacegroup(
        166, Lattice.hexagonal(4.14, 28.6), ["Bi", "Se", "Se"], [[0, 0, 0.4], [0, 0, 0], [0, 0, 0.21]])
    materials = [
        Material("mp-24850", real["Co"][0]),
        Material("mp-13", real["Fe"][0]),
        Material("mp-19006", real["Mn"][0]),
        Material("mp-541837", bi2se3, icsd=[42545]),
        Material("mp-100", bi2se3, icsd=[11111]),  # same formula, other ICSD entry: a decoy
        Material("mp-22862", rocksalt("Na", "Cl", 5.6), spectra_for=["Na"]),  # no Cl spectrum
        Material("mp-23703", rocksalt("Li", "H", 4.0), spectra_for=["Li"]),  # H has no channel
    ]
    return documents(materials, fixtures_dir), real


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A cache of this test's own (servers on a reused port must not share raw chunks)."""
    monkeypatch.setenv("XANES_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("MP_API_KEY", raising=False)
    return tmp_path / "cache"


@pytest.fixture
def server(served):
    (summaries, xas), _ = served
    with FakeMaterialsProject(summaries, xas, KEY) as fake:
        yield fake


@pytest.fixture
def labels(tmp_path):
    path = tmp_path / "catalogue.csv"
    path.write_text(CATALOGUE)
    return read_labels(path)


def build(labels, server, out, **kwargs):
    options = {"api_key": KEY, "endpoint": server.endpoint, "chunk_size": 2, "retry": FAST}
    return build_mp_dataset(labels, out, **{**options, **kwargs})


def test_full_build_funnel_and_dataset(labels, server, cache, tmp_path, served):
    result = build(labels, server, tmp_path / "mp")
    assert (result.n_catalogue, result.n_on_mp, result.n_with_all_spectra) == (9, 6, 4)
    assert (result.n_topological, result.n_trivial) == (2, 2)
    assert result.dropped == {
        "duplicate": 1, "element_without_channel": 1, "icsd_not_on_mp": 1,
        "missing_k_xanes": 1, "not_on_mp": 1,
    }

    dataset = XanesDataset.load(result.path)
    meta = dataset.metadata.set_index("sample_id")
    assert list(meta.index) == ["mp-24850", "mp-13", "mp-19006", "mp-541837"]  # ICSD -> the right one
    assert meta.loc["mp-541837", "icsd"] == 42545
    assert meta.loc["mp-541837", "fine_class"] == "TI"
    assert meta.loc["mp-24850", "elements"] == ["Li", "O", "Co"]
    assert (meta.loc["mp-24850", "space_group"], meta.loc["mp-24850", "crystal_system"]) == (166, "trigonal")
    assert set(meta["source"]) == {"Materials Project"}
    assert set(meta["split"]) <= {"train", "validation", "test"}
    assert dataset.provenance["funnel"]["n_on_mp"] == 6

    _, real = served
    expected, _ = resample(real["Co"][1], real["Co"][2], "Co")
    rows = dataset.rows_for_samples([0])
    (co_row,) = rows[dataset.channel[rows] == channel_index("Co")]
    np.testing.assert_allclose(dataset.spectra[co_row], expected, rtol=1e-6)

    drops = pd.read_csv(result.path / DROPS_FILE).set_index("reason")
    assert drops.loc["missing_k_xanes", "mp_id"] == "mp-22862"
    assert drops.loc["missing_k_xanes", "detail"] == "Cl"
    assert drops.loc["element_without_channel", "detail"] == "H"
    assert drops.loc["not_on_mp", "mp_id"] == "mp-1"


def test_interrupted_build_resumes_without_refetching(labels, server, cache, tmp_path):
    stop = threading.Event()

    def stop_at_second_chunk(done, total, message):
        if "materials 3-4" in message:
            stop.set()

    out = tmp_path / "mp"
    with pytest.raises(BuildCancelled):
        build(labels, server, out, progress=stop_at_second_chunk, cancel=stop)
    assert not out.exists()  # nothing that could load as a complete dataset
    assert (server.count("summary"), server.count("xas")) == (2, 1)  # ICSD lookup + chunk 1

    server.reset_counts()
    result = build(labels, server, out)
    # 7 distinct ids in chunks of 2 -> 4 chunks; the first and the ICSD lookup come from cache.
    assert (server.count("summary"), server.count("xas")) == (3, 3)
    assert result.n_with_all_spectra == 4

    server.reset_counts()
    build(labels, server, out)
    assert (server.count("summary"), server.count("xas")) == (0, 0)


def test_rate_limit_and_server_errors_are_retried(labels, server, cache, tmp_path):
    server.fail_next("xas", [429, 503])
    result = build(labels, server, tmp_path / "mp")
    assert result.n_with_all_spectra == 4
    assert server.count("xas") == 4 + 2


def test_retries_give_up_with_a_clear_message(labels, server, cache, tmp_path):
    server.fail_next("summary", [503] * FAST.attempts)
    with pytest.raises(SourceError, match=r"did not answer after 3 attempts \(last: HTTP 503\)"):
        build(labels, server, tmp_path / "mp")


def test_bad_key_is_refused_clearly_without_echoing_it(labels, server, cache, tmp_path):
    wrong = "W" * 32
    with pytest.raises(SourceError, match="refused the API key") as info:
        build(labels, server, tmp_path / "mp", api_key=wrong)
    assert wrong not in str(info.value)
    assert server.count("summary") == 1  # a refusal is not retried


def test_missing_or_malformed_key(labels, server, cache, tmp_path):
    with pytest.raises(SourceError, match="MP_API_KEY"):
        build(labels, server, tmp_path / "mp", api_key=None)
    with pytest.raises(SourceError, match="32 characters"):
        build(labels, server, tmp_path / "mp", api_key="short-key")


def test_out_folder_of_other_files_is_refused_before_any_request(labels, server, cache, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    with pytest.raises(DatasetError, match="not a dataset folder"):
        build(labels, server, tmp_path / "mine")
    assert server.count("summary") == 0 and (tmp_path / "mine" / "notes.txt").read_text() == "mine"


def test_key_is_written_nowhere(labels, server, cache, tmp_path):
    build(labels, server, tmp_path / "mp")
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any("mp_raw" in str(p) for p in written)  # the raw cache was written
    for path in written:
        assert KEY.encode() not in path.read_bytes(), path
        assert KEY not in str(path)


def test_cli_hook_prints_the_funnel(tmp_path, server, cache, monkeypatch, capsys):
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text(CATALOGUE)
    monkeypatch.setenv("MP_API_KEY", KEY)
    monkeypatch.setenv("XANES_MP_KEY_ENDPOINTS", server.endpoint)  # the operator allows this endpoint
    assert main(["fetch-mp", "--labels", str(catalogue), "--endpoint", server.endpoint, "--out", str(tmp_path / "mp")]) == 0
    captured = capsys.readouterr()
    printed = json.loads(captured.out)
    for name in ("path", "n_catalogue", "n_on_mp", "n_with_all_spectra", "n_topological",
                 "n_trivial", "dropped"):
        assert name in printed
    assert printed["n_with_all_spectra"] == 4 and printed["dropped"]["not_on_mp"] == 1
    assert "Saved 4 materials" in captured.err
    assert KEY not in captured.out + captured.err


def failing(*errors: Exception):
    """A request that raises these errors in turn, then answers "ok"."""
    queue = list(errors)

    def request():
        if queue:
            raise queue.pop(0)
        return "ok"

    return request


def test_timeouts_retry_other_errors_do_not():
    from mp_api.client.core.exceptions import MPRestError

    timeout = MPRestError("HTTPConnectionPool(host='127.0.0.1', port=9): Read timed out. (read timeout=20)")
    assert call(failing(timeout, timeout), FAST, KEY) == "ok"
    not_found = MPRestError(f"REST query returned with error status code 404 on URL x?k={KEY}")
    with pytest.raises(SourceError, match="request failed") as info:
        call(failing(not_found), FAST, KEY)
    assert KEY not in str(info.value)


def test_stop_interrupts_a_backoff_wait():
    from mp_api.client.core.exceptions import MPRestError

    stop = threading.Event()
    threading.Timer(0.05, stop.set).start()
    slow = RetryPolicy(attempts=3, initial_delay_s=30.0)
    busy = MPRestError("REST query returned with error status code 503 on URL x")
    started = time.perf_counter()
    with pytest.raises(BuildCancelled):
        call(failing(busy, busy, busy), slow, KEY, stop)
    assert time.perf_counter() - started < 5
