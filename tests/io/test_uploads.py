"""Uploads become usable spectra or say exactly what to ask (io.uploads)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xanes_core.io.uploads import Choices, read_upload


def _read(fixtures_dir: Path, *parts: str, choices: Choices = Choices()):
    path = fixtures_dir.joinpath("spectra", *parts)
    return read_upload(path.read_bytes(), path.name, choices)


def test_a_clear_file_is_usable_and_asks_nothing(fixtures_dir: Path) -> None:
    result = _read(fixtures_dir, "mp", "LiCoO2_k_xanes.json")
    assert result.usable and result.spectrum.element == "Co"
    assert not (result.ask_element or result.ask_edge or result.column_labels or result.groups)


def test_unknown_element_is_asked_and_the_answer_applied(fixtures_dir: Path) -> None:
    asked = _read(fixtures_dir, "xdi_bad", "bad_30.xdi")
    assert asked.ask_element and not asked.usable and "choose the element" in asked.error
    answered = _read(fixtures_dir, "xdi_bad", "bad_30.xdi", choices=Choices(element="Cu"))
    assert answered.spectrum.element == "Cu"
    assert answered.ask_element  # the question stays so its widget keeps the answer
    assert "Cu K-edge window" in answered.error


def test_ambiguous_columns_list_the_labels_to_choose_from(fixtures_dir: Path) -> None:
    asked = _read(fixtures_dir, "xdi", "nonxafs_1d.xdi")
    assert asked.column_labels == ("x", "i0", "itrans", "mutrans")
    answered = _read(fixtures_dir, "columns", "generic_columns_no_header.dat",
                     choices=Choices(columns=("col1", "col2")))
    assert answered.column_labels[:2] == ("col1", "col2") and answered.spectrum is not None


def test_athena_groups_are_listed_by_id_and_one_is_chosen(fixtures_dir: Path) -> None:
    result = _read(fixtures_dir, "athena", "NiO.prj")
    ids = [group for group, _ in result.groups]
    assert len(ids) == len(set(ids)) > 1  # labels repeat in this project, ids do not
    chosen = _read(fixtures_dir, "athena", "NiO.prj", choices=Choices(group=ids[2]))
    assert chosen.usable and chosen.spectrum.name == dict(result.groups)[ids[2]]


@pytest.mark.parametrize("raw", [b"", b"\x00\x01\x02" * 100, b"\xff\xfe garbage \x80" * 50])
def test_junk_is_one_error_line(raw: bytes) -> None:
    result = read_upload(raw, "junk.dat")
    assert not result.usable and result.error and "\n" not in result.error
