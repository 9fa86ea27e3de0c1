"""Property tests: whatever bytes arrive, the readers return a Spectrum or raise a XanesError.

Random bytes exercise the decoding guards; mutated real files (bit flips, deleted and
inserted bytes, truncation) get past them into every parser, since each fixture format is
among the seeds. Example counts are small so the whole module runs in seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xanes_core.errors import XanesError
from xanes_core.io import read_spectra, read_spectrum
from xanes_core.io.spectrum import Spectrum

# Small fixtures of every format (mutating a 200 kB project is slow and finds nothing new).
SEEDS = [
    "athena/danger.prj", "athena/FeO.prj", "athena/json_unzipped.prj", "columns/cu.xmu",
    "columns/SSRL1_2006.dat", "columns/sample_spectrum_a.txt", "feff/xmu.dat",
    "mp/LiCoO2_k_xanes.json", "mp/xas.XANES.K.Fe.mp-13.tsv", "xdi/fe2o3_rt.xdi",
    "xdi_bad/bad_00.xdi",
]
INSERTS = [b"nan", b"\x00", b"'", b"(", b"[", b"{", b"-", b"\n", b"e9", b"#"]
FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def assert_result_or_xanes_error(data: bytes) -> None:
    try:
        spectrum = read_spectrum(data, "fuzz")
    except XanesError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(spectrum, Spectrum)
    assert spectrum.energy.size == spectrum.mu.size >= 5
    assert np.isfinite(spectrum.energy).all() and np.isfinite(spectrum.mu).all()
    assert (np.diff(spectrum.energy) > 0).all()


@st.composite
def mutated_fixture(draw, spectra: Path) -> bytes:
    data = bytearray((spectra / draw(st.sampled_from(SEEDS))).read_bytes())
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "duplicate"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] = draw(st.integers(0, 255))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 200))]
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from(INSERTS))
        elif kind == "truncate":
            del data[at:]
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 400))]
    return bytes(data)


@FAST
@given(st.binary(max_size=2000))
def test_random_bytes(data):
    assert_result_or_xanes_error(data)


@FAST
@given(st.text(alphabet="0123456789.eE+- \t\n,#;:abcXDI/()[]{}'\"=@$", max_size=800))
def test_random_text_that_looks_numeric(text):
    assert_result_or_xanes_error(text.encode())


@settings(FAST, max_examples=200)
@given(st.data())
def test_mutated_fixture_files(fixtures_dir, data):
    assert_result_or_xanes_error(data.draw(mutated_fixture(fixtures_dir / "spectra")))


@FAST
@given(st.data())
def test_mutated_files_through_read_spectra(fixtures_dir, data):
    try:
        spectra = read_spectra(data.draw(mutated_fixture(fixtures_dir / "spectra")), "fuzz")
    except XanesError:
        return
    assert spectra and all(isinstance(s, Spectrum) for s in spectra)
