import numpy as np
import pytest

from xanes_core.data.symmetry import (
    CRYSTAL_SYSTEMS,
    N_SYMMETRY_FEATURES,
    point_groups,
    symmetry_features,
    symmetry_info,
)
from xanes_core.errors import XanesError


def test_space_group_relations_follow_the_international_tables():
    assert symmetry_info(225).crystal_system == "cubic" and symmetry_info(225).point_group == "m-3m"
    assert symmetry_info(1).crystal_system == "triclinic"
    assert symmetry_info(194).crystal_system == "hexagonal" and symmetry_info(194).point_group == "6/mmm"
    assert symmetry_info(166).crystal_system == "trigonal"
    assert len(point_groups()) == 32


def test_one_hot_has_exactly_one_entry_per_block():
    features = symmetry_features(np.arange(1, 231))
    assert features.shape == (230, N_SYMMETRY_FEATURES) == (230, 269)
    n_cs = len(CRYSTAL_SYSTEMS)
    assert (features[:, :n_cs].sum(1) == 1).all()
    assert (features[:, n_cs:n_cs + 32].sum(1) == 1).all()
    assert (features[:, n_cs + 32:] == np.eye(230)).all()


@pytest.mark.parametrize("bad", [0, 231, "P4/mmm", 2.5, None, True])
def test_bad_space_groups_are_refused(bad):
    with pytest.raises(XanesError, match="1 to 230"):
        symmetry_info(bad)


def test_fast_table_agrees_with_pymatgen_space_groups_for_all_230():
    from pymatgen.symmetry.groups import SpaceGroup

    for number in range(1, 231):
        group = SpaceGroup.from_int_number(number)
        info = symmetry_info(number)
        assert (info.crystal_system, info.point_group) == (group.crystal_system, group.point_group), number
