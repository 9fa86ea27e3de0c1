"""Composition families: materials made of the same set of elements in different proportions
(Bi2Se3, BiSe, Bi4Se3), the comparison the paper suggests for telling spectral from
compositional signatures of topology.

A material's element set comes from its formula (every element symbol in it, so Cu(OH)2 is
Cu-H-O), or, where the formula is empty or names no element, from its absorbing elements. A
family is named by its elements, most electropositive first (Pauling electronegativity), as
formulas are written: "Cu-O", "Bi-Se". Families with both classes hold the interesting
comparison: same elements, different topology. Only a family of two or more materials is one.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd

from xanes_core.data.dataset import CLASS_NAMES, LABEL_NAMES, XanesDataset

_SYMBOL = re.compile(r"[A-Z][a-z]?")
MAX_FORMULAS_LISTED = 8
SEPARATOR = "-"


@lru_cache(maxsize=None)
def _electronegativity(symbol: str) -> float | None:
    """Pauling electronegativity; None when ``symbol`` is no element (0 for one without a value)."""
    from pymatgen.core.periodic_table import Element

    if not Element.is_valid_symbol(symbol):
        return None
    value = Element(symbol).X
    return value if value == value else 0.0


def element_set(formula: str, absorbing: list[str] | tuple[str, ...] = ()) -> tuple[str, ...]:
    """The elements of ``formula``, most electropositive first; ``absorbing`` when it names none."""
    symbols = {s for s in _SYMBOL.findall(str(formula or "")) if _electronegativity(s) is not None}
    if not symbols:
        symbols = set(absorbing)
    return tuple(sorted(symbols, key=lambda s: (_electronegativity(s) or 0.0, s)))


def family_keys(dataset: XanesDataset) -> pd.Series:
    """Per material, its family's name ("Cu-O")."""
    meta = dataset.metadata
    return pd.Series([SEPARATOR.join(element_set(f, e)) for f, e in zip(meta["formula"], meta["elements"])],
                     index=meta.index, name="family")


def family_table(dataset: XanesDataset, samples: np.ndarray | None = None,
                 predicted: np.ndarray | None = None) -> pd.DataFrame:
    """One row per family of two or more of ``samples`` (default all), largest first:
    ``family, n_elements, n_materials, n_formulas`` (distinct formulas), a count per class and
    of unknown labels (``n_topological, n_trivial, n_unknown``), ``both_classes`` (two classes
    or more among its members) and ``formulas`` (the first few). With ``predicted`` (every
    dataset material's predicted label), also ``n_test`` and ``test_correct``: its held-out
    (test split) members and how many of them the run predicts right."""
    samples = np.arange(dataset.n_samples) if samples is None else np.asarray(samples, dtype=np.int64)
    meta = dataset.metadata.iloc[samples]
    frame = pd.DataFrame({"family": family_keys(dataset).iloc[samples].to_numpy(), "formula": meta["formula"].to_numpy(),
                          "label": meta["label"].to_numpy(), "test": (meta["split"] == "test").to_numpy()})
    if predicted is not None:
        frame["correct"] = (np.asarray(predicted)[samples] == frame["label"].to_numpy()) & frame["test"]
    frame = frame[frame.groupby("family")["family"].transform("size") >= 2]
    groups = frame.groupby("family")
    counts = pd.crosstab(frame["family"], frame["label"]).reindex(columns=list(LABEL_NAMES), fill_value=0)
    table = pd.DataFrame({"n_elements": counts.index.str.count(SEPARATOR) + 1, "n_materials": groups.size(),
                          "n_formulas": groups["formula"].nunique()}, index=counts.index)
    for value, name in LABEL_NAMES.items():
        table[f"n_{name}"] = counts[value]
    table["both_classes"] = (counts[[c for c in CLASS_NAMES]] > 0).sum(axis=1) >= 2
    table["formulas"] = groups["formula"].unique().map(lambda found: ", ".join(found[:MAX_FORMULAS_LISTED]))
    if predicted is not None:
        table["n_test"] = groups["test"].sum().astype(int)
        table["test_correct"] = groups["correct"].sum().astype(int)
    table = table.rename_axis("family").reset_index()
    return table.sort_values(["n_materials", "family"], ascending=[False, True], ignore_index=True)


def family_members(dataset: XanesDataset, family: str, samples: np.ndarray | None = None) -> np.ndarray:
    """The materials of ``family`` (among ``samples``, default all), ordered by formula."""
    keys = family_keys(dataset).to_numpy()
    chosen = np.flatnonzero(keys == family)
    if samples is not None:
        chosen = np.intersect1d(chosen, samples)
    formulas = dataset.metadata["formula"].to_numpy()[chosen]
    return chosen[np.argsort(formulas, kind="stable")]
