"""Composition families: element sets from formulas, the families table, members; on the demo and
on a dataset built by build-dataset from real FEFF spectra of Materials Project Cu oxides."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.analysis.helpers import real_feff_or_skip
from tests.sources.feff_files import write_xmu
from xanes_core.data.dataset import XanesDataset
from xanes_core.data.families import (
    element_set,
    family_keys,
    family_members,
    family_table,
)
from xanes_core.sources.local_files import MANIFEST_COLUMNS, build_local_dataset

# Real families of the shared FEFF set: every material of each is a Cu oxide of those elements.
REAL_FAMILIES = ("Cu-O", "La-Cu-O", "V-Cu-O")


def test_element_sets_come_from_the_formula():
    assert element_set("Bi2Se3") == ("Bi", "Se")
    assert element_set("Cu(OH)2") == ("Cu", "H", "O")  # every element of the formula, channel or not
    assert element_set("LiCoO2") == ("Li", "Co", "O")  # most electropositive first
    assert element_set("", ["Fe"]) == ("Fe",) and element_set("Xq2", ["Cu", "O"]) == ("Cu", "O")


def test_demo_families(demo_small):
    keys = family_keys(demo_small)
    # demo formulas name exactly the absorbing elements
    assert all(set(k.split("-")) == set(e) for k, e in zip(keys, demo_small.metadata["elements"]))
    table = family_table(demo_small)
    assert (table["n_materials"] >= 2).all() and table["n_materials"].is_monotonic_decreasing
    sizes = keys.value_counts()
    assert dict(zip(table["family"], table["n_materials"])) == {k: n for k, n in sizes.items() if n >= 2}
    both = table[table["both_classes"]]
    assert len(both) > 0 and (both["n_topological"] > 0).all() and (both["n_trivial"] > 0).all()
    assert (table["n_topological"] + table["n_trivial"] + table["n_unknown"] == table["n_materials"]).all()
    family = both["family"].iloc[0]
    members = family_members(demo_small, family)
    assert members.size == both["n_materials"].iloc[0]
    assert (keys.iloc[members] == family).all()
    formulas = demo_small.metadata["formula"].to_numpy()[members]
    assert list(formulas) == sorted(formulas)


def test_the_table_follows_a_selection_and_counts_test_predictions(demo_small):
    labels = demo_small.labels
    trivial = np.flatnonzero(labels == 0)
    assert not family_table(demo_small, trivial)["both_classes"].any()
    perfect = family_table(demo_small, predicted=labels)
    assert (perfect["test_correct"] == perfect["n_test"]).all()
    wrong = family_table(demo_small, predicted=1 - labels)
    assert (wrong["test_correct"] == 0).all() and wrong["n_test"].sum() > 0
    keys = family_keys(demo_small)
    in_a_family = keys.map(keys.value_counts()).to_numpy() >= 2
    assert perfect["n_test"].sum() == (demo_small.metadata["split"].eq("test").to_numpy() & in_a_family).sum()


@pytest.fixture(scope="module")
def real_families(fixtures_dir, tmp_path_factory) -> XanesDataset:
    """Three real families of the FEFF set built by build-dataset from xmu.dat files. The FEFF
    materials carry no topology labels: each family's first two get placeholder labels of both
    classes (storage and counting, not physics), the rest stay unknown."""
    feff = real_feff_or_skip(fixtures_dir)
    folder = tmp_path_factory.mktemp("real-families")
    lines, seen = [",".join(MANIFEST_COLUMNS)], {}
    for mp_id, formula, group, energy, mu in zip(feff.mp_id, feff.formula, feff.space_group, feff.energy, feff.mu):
        family = "-".join(element_set(formula))
        if family not in REAL_FAMILIES or pd.isna(group):
            continue
        rank = seen[family] = seen.get(family, -1) + 1
        label = ("topological", "trivial")[rank] if rank < 2 else ""
        write_xmu(folder / "feff" / f"{mp_id}.xmu.dat", energy, mu)
        lines.append(f"{mp_id},{formula},{int(group)},{label},Cu,feff/{mp_id}.xmu.dat")
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    result = build_local_dataset(folder / "manifest.csv", folder / "dataset")
    assert result.n_samples == len(lines) - 1, result.dropped
    return XanesDataset.load(result.path)


def test_real_families_from_files(real_families):
    table = family_table(real_families).set_index("family")
    assert set(table.index) == set(REAL_FAMILIES)
    formulas = real_families.metadata["formula"]
    for family in REAL_FAMILIES:
        members = family_members(real_families, family)
        assert table.at[family, "n_materials"] == members.size >= 10
        assert table.at[family, "n_formulas"] == formulas.iloc[members].nunique() > 1  # several stoichiometries
        assert table.at[family, "both_classes"] and table.at[family, "n_unknown"] == members.size - 2
        assert (real_families.metadata["elements"].iloc[members].map(tuple) == ("Cu",)).all()  # Cu spectra only
