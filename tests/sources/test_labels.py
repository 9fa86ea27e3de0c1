"""Label catalogue readers: TQC, Materiae (real sample), plain CSV; format guessing; errors."""

from __future__ import annotations

import pytest

from xanes_core.errors import SourceError
from xanes_core.sources.labels import COLUMNS, guess_format, read_labels

TQC = (
    "formula;icsd;sg;theory;ID;class\n"
    "Bi2Se3;42545;166;NSOC;101;LCEBR\n"
    "Bi2Se3;42545;166;SOC;101;NLC\n"
    "NaCl;240598;225;SOC;102;LCEBR\n"
    "Cd3As2;609930;137;SOC;103;ESFD\n"
)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_materiae_sample(fixtures_dir):
    table = read_labels(fixtures_dir / "labels" / "materiae_sample.csv")
    assert list(table.columns) == list(COLUMNS)
    assert len(table) == 294  # 300 rows, 6 "Unknown" dropped
    assert "Unknown" not in set(table["fine_class"])
    assert table["label"].sum() == 17  # 11 TI + 6 TCI
    assert set(table.loc[table["label"] == 1, "fine_class"]) == {"TI", "TCI"}
    first = table.iloc[0]
    assert (first["mp_id"], first["icsd"], first["space_group"]) == ("mp-703521", 33535, 2)


def test_tqc_prefers_spin_orbit_rows_and_has_no_mp_ids(tmp_path):
    table = read_labels(write(tmp_path, "tqc.txt", TQC))
    assert len(table) == 3
    bise = table[table["icsd"] == 42545].iloc[0]
    assert (bise["fine_class"], bise["label"], bise["space_group"]) == ("NLC", 1, 166)
    assert table["mp_id"].isna().all()
    assert dict(zip(table["formula"], table["label"])) == {"Bi2Se3": 1, "NaCl": 0, "Cd3As2": 1}


def test_tqc_without_header(tmp_path):
    table = read_labels(write(tmp_path, "tqc.txt", TQC.split("\n", 1)[1]), format="tqc")
    assert len(table) == 3


def test_plain_csv_with_numbers_class_names_and_icsd_rows(tmp_path):
    text = "mp_id,icsd,formula,label\nmp-149,,Si,0\nmp-541837,,Bi2Se3,TI\n,42545,Bi2Se3,1\n"
    table = read_labels(write(tmp_path, "labels.csv", text))
    assert list(table["label"]) == [0, 1, 1]
    assert list(table["fine_class"]) == ["trivial", "TI", "topological"]
    assert table.loc[2, "mp_id"] is None and table.loc[2, "icsd"] == 42545


def test_csv_with_only_mp_ids(tmp_path):
    table = read_labels(write(tmp_path, "labels.csv", "mp_id,label\nmp-13,trivial\nmp-13,0\n"))
    assert len(table) == 1  # duplicates of one material are kept once


@pytest.mark.parametrize("first_line, expected", [
    ("materiae_id,formula,spacegroup,mp_id,icsd_ids,soc_topo_class", "materiae"),
    ("formula;icsd;sg;theory;ID;class", "tqc"),
    ("Bi2Se3;42545;166;SOC;101;NLC", "tqc"),
    ("mp_id,label", "csv"),
    ("icsd,formula,label", "csv"),
])
def test_guess_format(first_line, expected):
    assert guess_format(first_line + "\n") == expected


@pytest.mark.parametrize("name, text, words", [
    ("odd.csv", "a,b\n1,2\n", "cannot tell the catalogue format"),
    ("classes.csv", "mp_id,label\nmp-1,Weyl\n", "unknown topology class 'Weyl'"),
    ("ids.csv", "mp_id,label\nmp1,0\n", "not a Materials Project id"),
    ("tqc.txt", "Bi2Se3;42545;166;SOC\n", "TQC rows need 6 fields"),
    ("sg.txt", "Bi2Se3;42545;R-3m;SOC;1;NLC\n", "not a valid space group"),
    ("empty.csv", "mp_id,label\n", "holds no labelled materials"),
])
def test_bad_files_give_one_clear_line(tmp_path, name, text, words):
    with pytest.raises(SourceError) as info:
        read_labels(write(tmp_path, name, text))
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(SourceError, match="Cannot read label file"):
        read_labels(tmp_path / "nope.csv")
    with pytest.raises(SourceError, match="Unknown label format"):
        read_labels(write(tmp_path, "a.csv", "mp_id,label\nmp-1,0\n"), format="xlsx")
