"""What the demo draws before any spectrum: class, element count, elements, space group, formula.

The class and the number of distinct absorbing elements follow the paper's Table 1 exactly
(scaled to the requested size); elements and space groups follow the Materiae catalogue's
per-class counts (``data/priors/*.csv``), shrunk toward the pooled counts so composition alone
does not give the answer. Every draw here has an exact likelihood, used by :mod:`.posterior`.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from xanes_core.data.elements import CHANNELS, N_CHANNELS

# Paper Table 1: number of distinct absorbing elements -> (topological, trivial).
PAPER_TABLE_1 = {1: (29, 58), 2: (761, 1506), 3: (1917, 6513), 4: (380, 4291), 5: (33, 853),
                 6: (1, 102), 7: (0, 14)}

Cells = dict[tuple[int, int], int]  # (n_elements, label) -> number of samples


def _read_counts(name: str) -> pd.DataFrame:
    with resources.files("xanes_core.data").joinpath("priors", name).open("r") as handle:
        return pd.read_csv(handle)


@lru_cache(maxsize=4)
def element_odds(strength: float) -> dict[int, np.ndarray]:
    """Per-class inclusion odds over the 81 channels (class 1 topological, 0 trivial)."""
    counts = _read_counts("element_class_counts.csv").set_index("element")
    counts = counts.reindex(list(CHANNELS)).fillna(0.0)
    pooled = (counts["n_trivial"] + counts["n_topological"] + 1.0).to_numpy()
    pooled = pooled / pooled.sum()
    odds = {}
    for label, column in ((1, "n_topological"), (0, "n_trivial")):
        own = counts[column].to_numpy() + 0.5
        own = own / own.sum()
        odds[label] = 20.0 * ((1 - strength) * pooled + strength * own)
    return odds


@lru_cache(maxsize=4)
def space_group_probabilities(strength: float) -> dict[int, np.ndarray]:
    """Per-class probabilities of the 230 space groups."""
    counts = _read_counts("spacegroup_class_counts.csv").set_index("space_group_number")
    counts = counts.reindex(range(1, 231)).fillna(0.0)
    pooled = counts["n_trivial"] + counts["n_topological"] + 0.1
    pooled = (pooled / pooled.sum()).to_numpy()
    probabilities = {}
    for label, column in ((1, "n_topological"), (0, "n_trivial")):
        own = (counts[column] + 0.1).to_numpy()
        probabilities[label] = (1 - strength) * pooled + strength * own / own.sum()
    return probabilities


def class_table(n_samples: int) -> Cells:
    """Table 1 scaled to ``n_samples`` (largest remainders, so the cells add up exactly)."""
    cells = [((n, label), count) for n, pair in PAPER_TABLE_1.items() for label, count in zip((1, 0), pair)]
    total = sum(count for _, count in cells)
    exact = np.array([count * n_samples / total for _, count in cells])
    rounded = np.floor(exact).astype(int)
    for i in np.argsort(rounded - exact)[: n_samples - rounded.sum()]:
        rounded[i] += 1
    return {key: int(c) for (key, _), c in zip(cells, rounded)}


def draw_classes(cells: Cells, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(labels, n_elements) per sample: every Table 1 cell filled to its count, then shuffled."""
    labels = np.concatenate([np.full(c, label) for (n, label), c in cells.items()]).astype(np.int8)
    n_elements = np.concatenate([np.full(c, n) for (n, label), c in cells.items()])
    order = rng.permutation(labels.size)
    return labels[order], n_elements[order]


def _suffix_symmetric_polynomials(odds: np.ndarray, max_degree: int) -> np.ndarray:
    """E[j, k]: elementary symmetric polynomial of degree k over odds[j:]."""
    n = odds.size
    table = np.zeros((n + 1, max_degree + 1))
    table[n, 0] = 1.0
    for j in range(n - 1, -1, -1):
        table[j] = table[j + 1]
        table[j, 1:] += odds[j] * table[j + 1, :-1]
    return table


def _draw_element_sets(odds: np.ndarray, n: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` sets of exactly ``n`` channels, each a conditional-Bernoulli draw."""
    table = _suffix_symmetric_polynomials(odds, n)
    chosen = np.zeros((count, N_CHANNELS), dtype=bool)
    remaining = np.full(count, n)
    for j in range(N_CHANNELS):
        active = remaining > 0
        k = remaining[active]
        p_include = odds[j] * table[j + 1, k - 1] / table[j, k]
        take = rng.random(k.size) < p_include
        idx = np.flatnonzero(active)[take]
        chosen[idx, j] = True
        remaining[idx] -= 1
    return chosen


def draw_elements(cells: Cells, labels: np.ndarray, n_elements: np.ndarray, strength: float,
                  rng: np.random.Generator) -> np.ndarray:
    """(n_samples, 81) presence: each sample's elements given its class and element count."""
    odds = element_odds(strength)
    presence = np.zeros((labels.size, N_CHANNELS), dtype=bool)
    for (n, label), count in cells.items():
        members = np.flatnonzero((n_elements == n) & (labels == label))
        if members.size:
            presence[members] = _draw_element_sets(odds[label], n, members.size, rng)
    return presence


def log_set_probability(presence: np.ndarray, odds: np.ndarray, n: np.ndarray) -> np.ndarray:
    """log P(element set | class, n) under the conditional-Bernoulli draw."""
    normalizer = _suffix_symmetric_polynomials(odds, int(n.max()))[0]
    return presence @ np.log(odds) - np.log(normalizer[n])


def draw_space_groups(labels: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
    """One space-group number (1-230) per sample, from its class's probabilities."""
    probabilities = space_group_probabilities(strength)
    space_groups = np.empty(labels.size, dtype=np.int64)
    for label in (0, 1):
        members = np.flatnonzero(labels == label)
        space_groups[members] = rng.choice(np.arange(1, 231), size=members.size, p=probabilities[label])
    return space_groups


@lru_cache(maxsize=None)
def _electronegativity(symbol: str) -> float:
    from pymatgen.core.periodic_table import Element

    value = Element(symbol).X
    return value if value == value else 0.0  # NaN for elements without a Pauling value


def formulas(element_lists: list[list[str]], rng: np.random.Generator) -> list[str]:
    """Plausible formulas: small stoichiometries, most electropositive element first."""
    counts = iter(rng.choice([1, 1, 1, 2, 2, 3, 4], size=sum(len(symbols) for symbols in element_lists)))
    result = []
    for symbols in element_lists:
        ordered = sorted(symbols, key=lambda s: (_electronegativity(s), s))
        parts = [(s, int(next(counts))) for s in ordered]
        result.append("".join(s if n == 1 else f"{s}{n}" for s, n in parts))
    return result
