import numpy as np
import pytest
import xraydb
from pymatgen.core.periodic_table import Element

from xanes_core.data import elements
from xanes_core.errors import ElementError


def test_channels_are_the_papers_81_in_atomic_number_order():
    assert elements.N_CHANNELS == 81
    assert elements.CHANNELS[0] == "Li" and elements.CHANNELS[-1] == "Pu"
    for excluded in ("H", "He", "Ne", "Ar", "Kr", "Xe", "Pm", "Po", "Ac"):
        assert excluded not in elements.CHANNELS
    numbers = [Element(s).Z for s in elements.CHANNELS]
    assert numbers == sorted(numbers)
    assert numbers[-5:] == [90, 91, 92, 93, 94]


def test_k_edges_come_from_xraydb_and_grids_hold_mp_windows():
    assert elements.k_edge_energy("Fe") == pytest.approx(xraydb.xray_edge("Fe", "K").energy)
    grid = elements.energy_grid("Co")
    assert grid.shape == (200,)
    assert np.allclose(np.diff(grid), np.diff(grid)[0])
    # The Materials Project Co K-edge XANES of LiCoO2 runs 7713.2-7768.4 eV.
    assert grid[0] < 7713.2 and grid[-1] > 7768.4


def test_unknown_and_channel_less_elements_are_clear_errors():
    with pytest.raises(ElementError, match="not a chemical element"):
        elements.channel_index("Xx")
    with pytest.raises(ElementError, match="No absorbing-element channel for Kr"):
        elements.channel_index("kr")
    assert elements.channel_index("fe") == elements.CHANNELS.index("Fe")


def test_table_positions_put_lanthanides_and_actinides_in_their_own_rows():
    assert elements.table_position("Fe") == elements.TablePosition(row=4, column=8)
    assert elements.table_position("La").row == 8
    assert elements.table_position("U").row == 9
    positions = {elements.table_position(s) for s in elements.CHANNELS}
    assert len(positions) == elements.N_CHANNELS
