"""Crystal system, point group and space group of a material, and their one-hot encodings.

The paper's second input concatenates one-hot crystal system (7), point group (32) and space
group (230) = 269 features. All relations come from spglib's and pymatgen's space-group tables (built once and
cached), not from hand-typed lists.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from xanes_core.errors import XanesError

N_SPACE_GROUPS = 230
CRYSTAL_SYSTEMS = (
    "triclinic", "monoclinic", "orthorhombic", "tetragonal", "trigonal", "hexagonal", "cubic",
)


@dataclass(frozen=True)
class SymmetryInfo:
    space_group: int
    symbol: str
    crystal_system: str
    point_group: str


@lru_cache(maxsize=1)
def _table() -> tuple[SymmetryInfo, ...]:
    """Symbol and point group from spglib's space-group types (first setting of each number),
    crystal system from pymatgen's point-group map: a fraction of a second, unlike building
    230 pymatgen SpaceGroup objects."""
    import spglib
    from pymatgen.symmetry.groups import SYMM_DATA

    crystal_system_of = SYMM_DATA["point_group_crystal_system_map"]
    first: dict[int, SymmetryInfo] = {}
    for hall_number in range(1, 531):
        with warnings.catch_warnings():  # spglib warns about its own error-handling migration
            warnings.simplefilter("ignore", DeprecationWarning)
            kind = spglib.get_spacegroup_type(hall_number)
        if kind.number not in first:
            point_group = kind.pointgroup_international
            first[kind.number] = SymmetryInfo(kind.number, kind.international_short,
                                              crystal_system_of[point_group], point_group)
    return tuple(first[number] for number in range(1, N_SPACE_GROUPS + 1))


@lru_cache(maxsize=1)
def point_groups() -> tuple[str, ...]:
    """The 32 crystallographic point groups, in order of their first space group."""
    ordered: list[str] = []
    for info in _table():
        if info.point_group not in ordered:
            ordered.append(info.point_group)
    return tuple(ordered)


def validate_space_group(number: object) -> int:
    """An int in 1..230 from an int, a whole float or a digit string; else a XanesError."""
    message = f"Space group must be a whole number from 1 to 230, not '{number}'."
    if isinstance(number, str) and number.strip().isdigit():
        number = int(number.strip())
    if isinstance(number, (float, np.floating)) and float(number).is_integer():
        number = int(number)
    if isinstance(number, bool) or not isinstance(number, (int, np.integer)):
        raise XanesError(message)
    if not 1 <= number <= N_SPACE_GROUPS:
        raise XanesError(message)
    return int(number)


def symmetry_info(space_group: int) -> SymmetryInfo:
    return _table()[validate_space_group(space_group) - 1]


def symmetry_features(space_groups: np.ndarray | list[int]) -> np.ndarray:
    """(n, 269) float32 one-hot [crystal system | point group | space group]."""
    numbers = np.asarray(space_groups, dtype=np.int64)
    if numbers.size and (numbers.min() < 1 or numbers.max() > N_SPACE_GROUPS):
        raise XanesError("Space groups must be numbers from 1 to 230.")
    table = _encoding_table()
    return table[numbers - 1]


N_SYMMETRY_FEATURES = len(CRYSTAL_SYSTEMS) + 32 + N_SPACE_GROUPS


@lru_cache(maxsize=1)
def _encoding_table() -> np.ndarray:
    groups = point_groups()
    table = np.zeros((N_SPACE_GROUPS, N_SYMMETRY_FEATURES), dtype=np.float32)
    for info in _table():
        row = info.space_group - 1
        table[row, CRYSTAL_SYSTEMS.index(info.crystal_system)] = 1
        table[row, len(CRYSTAL_SYSTEMS) + groups.index(info.point_group)] = 1
        table[row, len(CRYSTAL_SYSTEMS) + len(groups) + row] = 1
    table.setflags(write=False)
    return table
