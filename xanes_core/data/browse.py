"""Selecting and counting samples: what the dataset browser shows, usable from any script.

Counts here are the paper's dataset figures: samples per absorbing element and class
(Fig. S1a-b) and samples per number of elements and class (Table 1). A sample counts once for
each absorbing element it contains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xanes_core.data.dataset import LABEL_NAMES, XanesDataset
from xanes_core.data.elements import CHANNELS


@dataclass(frozen=True)
class SampleFilter:
    """Which samples to show. Empty tuples and ``None`` mean "no restriction".

    ``elements``: the sample must contain **all** of these absorbing elements, so adding an
    element narrows the selection (Bi + Se -> bismuth selenides).
    ``formula_contains``: case-insensitive substring of the formula.
    """

    elements: tuple[str, ...] = ()
    labels: tuple[int, ...] = ()
    n_elements: tuple[int, int] | None = None
    crystal_systems: tuple[str, ...] = ()
    space_groups: tuple[int, ...] = ()
    formula_contains: str = ""


def filter_samples(dataset: XanesDataset, selection: SampleFilter) -> np.ndarray:
    """Sample positions (ascending) that pass every restriction of ``selection``."""
    meta = dataset.metadata
    keep = np.ones(dataset.n_samples, dtype=bool)
    if selection.elements:
        present = dataset.presence()
        keep &= present[:, [CHANNELS.index(s) for s in selection.elements]].all(axis=1)
    if selection.labels:
        keep &= np.isin(meta["label"].to_numpy(), selection.labels)
    if selection.n_elements is not None:
        count = meta["elements"].map(len).to_numpy()
        keep &= (count >= selection.n_elements[0]) & (count <= selection.n_elements[1])
    if selection.crystal_systems:
        keep &= meta["crystal_system"].isin(selection.crystal_systems).to_numpy()
    if selection.space_groups:
        keep &= meta["space_group"].isin(selection.space_groups).to_numpy()
    text = selection.formula_contains.strip()
    if text:
        keep &= meta["formula"].str.contains(text, case=False, regex=False).to_numpy()
    return np.flatnonzero(keep)


def sample_table(dataset: XanesDataset, samples: np.ndarray) -> pd.DataFrame:
    """A readable one-row-per-sample table (class as a word, elements joined) for display/CSV."""
    meta = dataset.metadata.iloc[samples]
    table = pd.DataFrame({
        "sample_id": meta["sample_id"].to_numpy(),
        "formula": meta["formula"].to_numpy(),
        "class": meta["label"].map(LABEL_NAMES).to_numpy(),
        "n_elements": meta["elements"].map(len).to_numpy(),
        "elements": meta["elements"].map(" ".join).to_numpy(),
        "space_group": meta["space_group"].to_numpy(),
        "crystal_system": meta["crystal_system"].to_numpy(),
        "point_group": meta["point_group"].to_numpy(),
        "split": meta["split"].to_numpy(),
    })
    if "p_topological" in meta.columns:
        table["p_topological"] = meta["p_topological"].to_numpy()
    return table


def element_class_counts(dataset: XanesDataset) -> pd.DataFrame:
    """Per absorbing element present: samples of each class and topological/trivial ratio.

    ``ratio`` is ``inf`` for an element with topological but no trivial samples.
    """
    present = dataset.presence()
    labels = dataset.labels
    n_topo = present[labels == 1].sum(axis=0)
    n_triv = present[labels == 0].sum(axis=0)
    used = (n_topo + n_triv) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(n_triv > 0, n_topo / np.maximum(n_triv, 1), np.inf)
    return pd.DataFrame({
        "element": np.asarray(CHANNELS)[used],
        "n_topological": n_topo[used].astype(int),
        "n_trivial": n_triv[used].astype(int),
        "ratio": ratio[used],
    })


def element_count_table(dataset: XanesDataset) -> pd.DataFrame:
    """Paper Table 1: samples per number of distinct absorbing elements, by class."""
    by_count = dataset.summary()["by_element_count"]
    table = pd.DataFrame(
        [(int(k), topo, triv) for k, (topo, triv) in by_count.items()],
        columns=["n_elements", "topological", "trivial"],
    )
    table["total"] = table["topological"] + table["trivial"]
    return table


def reduced_formula(formula: str) -> str | None:
    """The reduced formula of a composition ("Se3Bi2" and "Bi4Se6" -> "Bi2Se3"); None if it is not one."""
    from pymatgen.core import Composition

    try:
        return Composition(str(formula).strip()).reduced_formula
    except Exception:  # noqa: BLE001 - pymatgen raises several types for text that is no formula
        return None


def find_formula(formulas: Sequence[str], query: str, keys: Sequence[str | None] | None = None,
                 most: int = 20) -> tuple[np.ndarray, bool]:
    """Positions of ``formulas`` with exactly the query's composition, and True; when there is
    none, the closest spellings (difflib, at most ``most``) and False, so a caller can say the
    match is fuzzy. "Bi2Se" finds no Bi2Se3 and no ZnBi2S2 exactly. ``keys``: the formulas'
    reduced formulas if already computed (they are the slow part)."""
    import difflib

    keys = list(keys) if keys is not None else [reduced_formula(f) for f in formulas]
    wanted = reduced_formula(query)
    exact = np.array([i for i, key in enumerate(keys) if wanted is not None and key == wanted], dtype=np.int64)
    if exact.size:
        return exact, True
    close = set(difflib.get_close_matches(query.strip(), sorted(set(formulas)), n=most, cutoff=0.5))
    return np.array([i for i, f in enumerate(formulas) if f in close], dtype=np.int64), False
