"""What a model learns to tell apart: the paper's two classes, or three.

- ``binary`` (the default, the paper's task): 1 topological, 0 trivial, the dataset's
  ``label`` column.
- ``three-class``: 0 trivial, 1 topological insulator, 2 topological semimetal. The catalogues
  make this distinction (Materiae: TI and TCI are insulators, HSP_SM and HSL_SM semimetals;
  TQC: NLC and SEBR insulators, ES and ESFD enforced semimetals) and keep it in a dataset's
  ``fine_class`` column (Materials Project builds; the demo writes the plain names). A
  material whose fine class is not known (a hand-written CSV says only "topological") has no
  three-class label (-1) and takes no part in three-class training or scoring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xanes_core.errors import DatasetError

if TYPE_CHECKING:  # the command line's parser reads TASKS without loading numpy or pandas
    import numpy as np
    import pandas as pd

TASKS = ("binary", "three-class")
BINARY, THREE_CLASS = TASKS
# Class name -> class number, per task (binary: topological first, as every table shows it).
TASK_CLASSES: dict[str, dict[str, int]] = {
    BINARY: {"topological": 1, "trivial": 0},
    THREE_CLASS: {"trivial": 0, "topological insulator": 1, "topological semimetal": 2},
}
# A catalogue's fine class -> three-class number.
FINE_CLASSES: dict[str, int] = {
    "Triv_Ins": 0, "LCEBR": 0, "trivial": 0,
    "TI": 1, "TCI": 1, "NLC": 1, "SEBR": 1, "topological insulator": 1,
    "HSP_SM": 2, "HSL_SM": 2, "ES": 2, "ESFD": 2, "topological semimetal": 2,
}
UNKNOWN = -1


def check_task(task: str) -> str:
    if task not in TASKS:
        raise DatasetError(f"Unknown task '{task}'; use one of {', '.join(TASKS)}.")
    return task


def class_names(task: str) -> list[str]:
    """The task's class names in class-number order (index = class number)."""
    classes = TASK_CLASSES[check_task(task)]
    return sorted(classes, key=classes.get)


def task_labels(metadata: pd.DataFrame, task: str) -> np.ndarray:
    """(n,) class numbers of every material for ``task``; -1 where unknown (unlabelled, or a
    topological material whose fine class is not known)."""
    import numpy as np

    labels = metadata["label"].to_numpy(dtype=np.int64)
    if check_task(task) == BINARY:
        return labels
    if "fine_class" not in metadata.columns:
        raise DatasetError("This dataset has no fine classes (topological insulator or semimetal): the "
                           "three-class task needs a demo built by this version (python -m xanes_core demo-data) "
                           "or a Materials Project build from a Materiae or TQC catalogue.")
    fine = metadata["fine_class"].map(FINE_CLASSES).fillna(UNKNOWN).to_numpy(dtype=np.int64)
    agrees = (labels >= 0) & ((fine > 0) == (labels == 1))
    return np.where(agrees, fine, UNKNOWN)
