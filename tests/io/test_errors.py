"""Each user mistake the issue lists gives one clear SpectrumError line, or a fix with a warning."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from xanes_core.errors import ColumnChoiceNeeded, SpectrumError, XanesError
from xanes_core.io import read_spectrum


def columns_text(energy, mu, header: str = "# energy mu\n") -> bytes:
    rows = "".join(f"{float(e)!r} {float(m)!r}\n" for e, m in zip(energy, mu))
    return (header + rows).encode()


def fe_edge(energy: np.ndarray) -> np.ndarray:
    """A Fe K-like edge (7112 eV) on a sloping background."""
    return 0.2 + 1e-5 * (energy - 7000) + 1.0 / (1.0 + np.exp(-(energy - 7112.0) / 1.5))


ENERGY = np.linspace(6950.0, 7400.0, 300)


def read_bytes(data: bytes, **kw):
    return read_spectrum(data, "test.dat", **kw)


def one_line_error(data: bytes, match: str, **kw) -> str:
    with pytest.raises(SpectrumError, match=match) as caught:
        read_bytes(data, **kw)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_empty_file():
    one_line_error(b"", "empty")
    one_line_error(b"  \n\n \t\n", "empty")


def test_no_numeric_data():
    one_line_error(b"# just a header\nhello world\nmore words\n", "no block of numeric data")


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_nan_or_infinite_values(bad):
    text = columns_text(ENERGY, fe_edge(ENERGY)).decode().splitlines()
    text[50] = f"7020.0 {bad}"
    one_line_error("\n".join(text).encode(), "NaN or infinite")


def test_single_point_and_too_few():
    one_line_error(b"7112.0 1.0\n7113.0 1.1\n7114.0 1.2\n", "only 3 data point")
    one_line_error(b'{"x": [7112.0], "y": [1.0], "absorbing_element": "Fe"}', "only 1 data point")


def test_unsorted_energies_are_sorted_with_warning():
    order = np.random.default_rng(0).permutation(ENERGY.size)
    spectrum = read_bytes(columns_text(ENERGY[order], fe_edge(ENERGY)[order]))
    assert (np.diff(spectrum.energy) > 0).all()
    assert np.allclose(spectrum.mu, fe_edge(spectrum.energy))
    assert any("sorted" in w for w in spectrum.warnings)


def test_decreasing_energies_are_reversed():
    spectrum = read_bytes(columns_text(ENERGY[::-1], fe_edge(ENERGY[::-1])))
    assert spectrum.energy[0] == ENERGY[0] and any("reversed" in w for w in spectrum.warnings)


def test_a_few_duplicates_dropped_many_refused():
    energy = np.concatenate([ENERGY, ENERGY[:5]])
    spectrum = read_bytes(columns_text(energy, fe_edge(energy)))
    assert spectrum.energy.size == ENERGY.size and any("dropped 5" in w for w in spectrum.warnings)
    repeated = np.repeat(ENERGY[:50], 2)
    one_line_error(columns_text(repeated, fe_edge(repeated)), "repeat")


def test_kev_energies_are_converted():
    spectrum = read_bytes(columns_text(ENERGY / 1000.0, fe_edge(ENERGY)))
    assert spectrum.energy[0] == pytest.approx(6950.0)
    assert spectrum.element == "Fe" and any("keV" in w for w in spectrum.warnings)


def test_file_over_size_limit(tmp_path):
    data = columns_text(ENERGY, fe_edge(ENERGY))
    one_line_error(data, "over the 0.0 MB limit", max_bytes=100)
    path = tmp_path / "big.dat"
    path.write_bytes(data)
    with pytest.raises(SpectrumError, match="limit"):
        read_spectrum(path, max_bytes=len(data) - 1)
    assert read_spectrum(path, max_bytes=len(data)).element == "Fe"


def test_gzip_bomb_is_bounded():
    bomb = gzip.compress(b"1 2\n" * 2_000_000)
    one_line_error(bomb, "uncompressed", max_bytes=1_000_000)


def test_corrupt_gzip():
    one_line_error(gzip.compress(b"7112 1\n" * 100)[:30], "corrupt gzip")


def test_binary_junk():
    one_line_error(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary")
    one_line_error(bytes(range(128, 256)) * 20, "not a text file")


def test_missing_file(tmp_path):
    with pytest.raises(SpectrumError, match="no such file"):
        read_spectrum(tmp_path / "nope.xdi")


def test_ambiguous_columns_list_them_and_explicit_choice_works():
    header = "# energy i0 itrans ifluor\n"
    i0 = np.full(ENERGY.size, 1e5)
    rows = "".join(f"{e} {a} {a * np.exp(-m)} {a * m}\n" for e, a, m in zip(ENERGY, i0, fe_edge(ENERGY)))
    message = one_line_error((header + rows).encode(), "energy, i0, itrans, ifluor")
    assert "Choose" in message
    spectrum = read_bytes((header + rows).encode(), columns=("energy", "ifluor"))
    assert spectrum.metadata["mu_from"] == "ifluor"
    one_line_error((header + rows).encode(), "no column 'mu'", columns=("energy", "mu"))
    with pytest.raises(ColumnChoiceNeeded) as raised:  # typed, so a page can ask without reading the text
        read_bytes((header + rows).encode())
    assert raised.value.labels == ("energy", "i0", "itrans", "ifluor")


def test_transmission_mu_from_named_columns():
    header = "# energy i0 it\n"
    rows = "".join(f"{e} 1000.0 {1000.0 * np.exp(-m)}\n" for e, m in zip(ENERGY, fe_edge(ENERGY)))
    spectrum = read_bytes((header + rows).encode())
    assert np.allclose(spectrum.mu, fe_edge(ENERGY)) and spectrum.metadata["mu_from"] == "ln(i0/it)"


def test_element_and_edge_overrides():
    data = columns_text(ENERGY, fe_edge(ENERGY))
    spectrum = read_bytes(data, element="co", edge="k")
    assert (spectrum.element, spectrum.edge) == ("Co", "K")
    assert not any("inferred" in w for w in spectrum.warnings)
    with pytest.raises(XanesError, match="not a chemical element"):
        read_bytes(data, element="Qq")
    one_line_error(data, "not an absorption edge", edge="Z9")


def test_element_given_edge_inferred():
    spectrum = read_bytes(columns_text(ENERGY, fe_edge(ENERGY)), element="Fe")
    assert spectrum.edge == "K" and any("Edge inferred" in w for w in spectrum.warnings)


def test_unknown_edge_leaves_element_none():
    energy = np.linspace(100_000.0, 100_400.0, 200)  # no tabulated edge near
    spectrum = read_bytes(columns_text(energy, fe_edge(energy - 100_000 + 7000)))
    assert spectrum.element is None and any("please give it" in w for w in spectrum.warnings)


def test_mp_json_variants():
    energy, mu = ENERGY.tolist(), fe_edge(ENERGY).tolist()
    old = read_bytes(f'{{"energies": {energy}, "mu": {mu}, "absorbing_element": "Fe", "edge": "K"}}'.encode())
    wrapped = read_bytes(
        f'{{"material_id": "mp-13", "spectrum": {{"x": {energy}, "y": {mu}}}, '
        f'"absorbing_element": "Fe", "edge": "K"}}'.encode()
    )
    assert old.element == wrapped.element == "Fe" and wrapped.metadata["material_id"] == "mp-13"
    one_line_error(b'{"x": "abc", "y": [1, 2]}', "not lists of numbers")
    one_line_error(b'{"x": [1, 2', "not valid JSON")
