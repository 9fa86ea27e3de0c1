"""Reading the ``.npz`` array files this tool writes (run splits, standardizers, baselines).

Arrays only, never pickle (``allow_pickle=False``), and every way such a file can be damaged
(truncated, emptied, overwritten with anything else, an array missing) is one
:class:`~xanes_core.errors.RunError` line naming the file, instead of numpy's or zipfile's own
exceptions (some of which suggest loading the file unsafely).
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from xanes_core.errors import RunError


def read_arrays(path: str | Path, names: Sequence[str]) -> dict[str, np.ndarray]:
    """The arrays ``names`` of the file at ``path`` (all of them when ``names`` is empty)."""
    path = Path(path)
    if not path.is_file():
        raise RunError(f"{path} is missing.")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in (names or npz.files)}
    except KeyError as exc:
        raise RunError(f"{path} is damaged: it has no array {exc}.") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, AttributeError):
        raise RunError(f"{path} is damaged or not an array file written by this tool.") from None
