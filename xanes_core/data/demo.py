"""Synthetic demo data: a physically shaped, honestly labelled stand-in for the paper's dataset.

Everything here is **synthetic demo data**; it lets the whole tool work offline. The generative
model draws the class first and everything else given the class, so the generator knows the
exact posterior ``p_topological = P(topological | everything drawn)`` of every sample. Because
the label is a draw from the class prior and the features from the class, the label is, given
the features, distributed exactly as Bernoulli(p_topological).

Generative model, per sample:

1. Class and number of distinct absorbing elements ``n``: the paper's Table 1 counts
   (topological/trivial for n = 1..7), scaled to the requested size and shuffled, so the
   table is reproduced exactly (up to rounding).
2. Elements given class and ``n``: a conditional-Bernoulli draw (each channel element included
   with class-specific odds ``r_c(e)``, conditioned on exactly ``n`` included). The odds follow
   the real catalogue's per-class element counts (``data/element_class_counts.csv``), shrunk
   toward the pooled counts by :attr:`DemoModel.composition_strength`.
3. Space group given class: the real catalogue's per-class space-group counts
   (``data/spacegroup_class_counts.csv``), shrunk the same way; crystal system and point group
   follow from the space group.
4. Two sample-level latent properties with class-dependent means (unit variance):
   ``bonding`` (topological materials: more covalent, weaker white line) and ``bond_length``
   (topological: longer first-shell distance, so slower EXAFS-like oscillations).
5. Each element's K-edge spectrum on its 200-point grid, made on a finer, wider grid and then
   broadened: an arctangent edge at the element's tabulated K-edge plus a class-independent
   chemical shift (N(1.5, 1.5) eV); a Lorentzian white line whose height follows ``bonding``;
   a pre-edge peak for transition metals (class-independent); damped oscillations
   chi(k) ~ sin(2kR + phase) exp(-2 sigma^2 k^2) / (kR) with R from the element's atomic radius
   scaled by ``bond_length``; Lorentzian core-hole broadening with the element's K-level width
   (xraydb, 0.04 eV for Li to ~100 eV for Pu) plus 0.5 eV instrumental; Gaussian noise.

``p_topological`` combines the exact log-likelihood ratios of steps 1-4 (the class-independent
nuisances of step 5 cancel). Thresholding it at the class prevalence (the Bayes rule for
balanced accuracy) is the reference any classifier is measured against; composition and space
group alone carry clearly less information than composition plus spectra (tests check both).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from xanes_core.data.dataset import XanesDataset
from xanes_core.data.elements import (
    CHANNELS,
    GRID_POINTS,
    N_CHANNELS,
    WINDOW_EV,
    k_edge_energy,
)
from xanes_core.data.preprocess import GRID_STEP_EV, assign_splits
from xanes_core.data.symmetry import symmetry_info
from xanes_core.errors import XanesError
from xanes_core.paths import default_demo_path

DEFAULT_N_SAMPLES = 16_458
DEMO_SOURCE = "synthetic demo"

# Paper Table 1: number of distinct absorbing elements -> (topological, trivial).
PAPER_TABLE_1 = {1: (29, 58), 2: (761, 1506), 3: (1917, 6513), 4: (380, 4291), 5: (33, 853),
                 6: (1, 102), 7: (0, 14)}

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class DemoModel:
    """The generator's knobs, calibrated so the spectra carry signal beyond composition."""

    composition_strength: float = 0.5  # 0: classes share element/space-group odds; 1: real counts
    bonding_separation: float = 1.3  # class-mean difference of the `bonding` latent (in sigmas)
    bond_length_separation: float = 1.3
    white_line_per_sigma: float = 0.12  # white-line height change per sigma of `bonding`
    bond_length_per_sigma: float = 0.04  # relative first-shell distance change per sigma
    noise: float = 0.004  # Gaussian noise, in units of the edge step


# --------------------------------------------------------------------------- priors
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


def _suffix_symmetric_polynomials(odds: np.ndarray, max_degree: int) -> np.ndarray:
    """E[j, k]: elementary symmetric polynomial of degree k over odds[j:]."""
    n = odds.size
    table = np.zeros((n + 1, max_degree + 1))
    table[n, 0] = 1.0
    for j in range(n - 1, -1, -1):
        table[j] = table[j + 1]
        table[j, 1:] += odds[j] * table[j + 1, :-1]
    return table


def _draw_elements(odds: np.ndarray, n: int, count: int, rng: np.random.Generator) -> np.ndarray:
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


def _log_set_probability(presence: np.ndarray, odds: np.ndarray, n: np.ndarray) -> np.ndarray:
    """log P(element set | class, n) under the conditional-Bernoulli draw."""
    normalizer = _suffix_symmetric_polynomials(odds, int(n.max()))[0]
    return presence @ np.log(odds) - np.log(normalizer[n])


def _class_table(n_samples: int) -> dict[tuple[int, int], int]:
    """(n_elements, label) -> count, Table 1 scaled to n_samples (largest remainders)."""
    cells = [((n, label), count) for n, pair in PAPER_TABLE_1.items() for label, count in zip((1, 0), pair)]
    total = sum(count for _, count in cells)
    exact = np.array([count * n_samples / total for _, count in cells])
    rounded = np.floor(exact).astype(int)
    for i in np.argsort(rounded - exact)[: n_samples - rounded.sum()]:
        rounded[i] += 1
    return {key: int(c) for (key, _), c in zip(cells, rounded)}


# --------------------------------------------------------------------------- spectra
_FINE_PAD_EV = 40.0  # extra range either side so broadening has no edge artefacts
_INSTRUMENT_EV = 0.5
_TRANSITION_METALS = set(range(21, 31)) | set(range(39, 49)) | set(range(72, 81))


@lru_cache(maxsize=None)
def _element_constants(symbol: str) -> tuple[float, float, float, int]:
    """(K-edge eV, core-hole width eV, nominal first-shell distance Angstrom, Z)."""
    import xraydb
    from pymatgen.core.periodic_table import Element

    element = Element(symbol)
    radius = float(element.atomic_radius or 1.5)
    return k_edge_energy(symbol), float(xraydb.core_width(symbol, "K")), 0.9 + radius, element.Z


@lru_cache(maxsize=None)
def _broadening_matrix(width_ev: float) -> np.ndarray:
    """(n_fine, 200) Lorentzian smoothing from the fine grid onto the element grid."""
    fine = _fine_offsets()
    coarse = np.linspace(WINDOW_EV[0], WINDOW_EV[1], GRID_POINTS)
    half = max(width_ev + _INSTRUMENT_EV, 0.2) / 2
    kernel = half / ((coarse[None, :] - fine[:, None]) ** 2 + half**2)
    return (kernel / kernel.sum(axis=0, keepdims=True)).astype(np.float32)


@lru_cache(maxsize=1)
def _fine_offsets() -> np.ndarray:
    """Energies relative to E_K of the fine grid (half the output step)."""
    step = GRID_STEP_EV / 2
    return np.arange(WINDOW_EV[0] - _FINE_PAD_EV, WINDOW_EV[1] + _FINE_PAD_EV + step, step)


def _element_spectra(symbol: str, bonding: np.ndarray, bond_length: np.ndarray,
                     model: DemoModel, rng: np.random.Generator) -> np.ndarray:
    """Spectra of one element for several samples, (m, 200), in edge-step units."""
    _, core_width, r_nominal, z = _element_constants(symbol)
    m = bonding.size
    offset = _fine_offsets()[None, :]
    e0 = rng.normal(1.5, 1.5, (m, 1))  # chemical shift, eV above the tabulated edge
    relative = offset - e0
    edge = 0.5 + np.arctan(relative / 1.5) / np.pi
    height = np.clip(0.55 + model.white_line_per_sigma * bonding[:, None] + rng.normal(0, 0.03, (m, 1)), 0.03, None)
    line_pos = 3.0 + rng.normal(0, 0.4, (m, 1))
    white_line = height * 2.0**2 / ((relative - line_pos) ** 2 + 2.0**2)
    spectrum = edge + white_line
    if z in _TRANSITION_METALS:
        pre_height = rng.uniform(0.02, 0.10, (m, 1))
        spectrum += pre_height * np.exp(-0.5 * ((relative + 6.0) / 0.8) ** 2)
    radius = r_nominal * (1 + model.bond_length_per_sigma * bond_length[:, None] + rng.normal(0, 0.008, (m, 1)))
    k = np.sqrt(0.2625 * np.clip(relative, 0, None))
    phase = 0.3 * z % (2 * np.pi) + rng.normal(0, 0.2, (m, 1))
    amplitude = rng.uniform(0.2, 0.3, (m, 1))
    chi = amplitude * np.sin(2 * k * radius + phase) * np.exp(-2 * 0.006 * k**2) / (np.sqrt(k**2 + 1.0) * radius / 2)
    spectrum += edge * chi
    broadened = spectrum.astype(np.float32) @ _broadening_matrix(round(core_width, 3))
    return broadened + rng.normal(0, model.noise, broadened.shape).astype(np.float32)


# --------------------------------------------------------------------------- assembly

def _formula(symbols: list[str], rng: np.random.Generator) -> str:
    """A plausible formula: small stoichiometries, most electropositive element first."""
    from pymatgen.core.periodic_table import Element

    ordered = sorted(symbols, key=lambda s: (Element(s).X if Element(s).X == Element(s).X else 0, s))
    parts = []
    for symbol in ordered:
        count = int(rng.choice([1, 1, 1, 2, 2, 3, 4]))
        parts.append(symbol if count == 1 else f"{symbol}{count}")
    return "".join(parts)


def generate_demo(n_samples: int = DEFAULT_N_SAMPLES, seed: int = 0, progress: Progress | None = None,
                  model: DemoModel = DemoModel()) -> XanesDataset:
    """Build the synthetic demo dataset (deterministic for a given size, seed and model)."""
    if n_samples < 50:
        raise XanesError("The demo dataset needs at least 50 samples to fill every class and split.")
    report = progress or (lambda fraction, message: None)
    rng = np.random.default_rng(seed)
    report(0.0, "Drawing classes and compositions")

    cells = _class_table(n_samples)
    labels = np.concatenate([np.full(c, label) for (n, label), c in cells.items()]).astype(np.int8)
    n_elements = np.concatenate([np.full(c, n) for (n, label), c in cells.items()])
    order = rng.permutation(n_samples)
    labels, n_elements = labels[order], n_elements[order]

    odds = element_odds(model.composition_strength)
    presence = np.zeros((n_samples, N_CHANNELS), dtype=bool)
    for (n, label), count in cells.items():
        members = np.flatnonzero((n_elements == n) & (labels == label))
        if members.size:
            presence[members] = _draw_elements(odds[label], n, members.size, rng)

    sg_probabilities = space_group_probabilities(model.composition_strength)
    space_groups = np.empty(n_samples, dtype=np.int64)
    for label in (0, 1):
        members = np.flatnonzero(labels == label)
        space_groups[members] = rng.choice(np.arange(1, 231), size=members.size, p=sg_probabilities[label])

    sign = np.where(labels == 1, 1.0, -1.0)
    bonding = rng.normal(-sign * model.bonding_separation / 2, 1.0)
    bond_length = rng.normal(sign * model.bond_length_separation / 2, 1.0)

    log_odds = _posterior_log_odds(cells, n_elements, presence, space_groups, bonding, bond_length, model)
    p_topological = 1.0 / (1.0 + np.exp(-np.clip(log_odds, -60, 60)))

    sample_rows, channel_rows, spectra = [], [], []
    present_channels = np.flatnonzero(presence.any(axis=0))
    for i, ch in enumerate(present_channels):
        members = np.flatnonzero(presence[:, ch])
        spectra.append(_element_spectra(CHANNELS[ch], bonding[members], bond_length[members], model, rng))
        sample_rows.append(members)
        channel_rows.append(np.full(members.size, ch))
        report(0.1 + 0.8 * (i + 1) / present_channels.size, f"Spectra for {CHANNELS[ch]}")

    elements = [[CHANNELS[c] for c in np.flatnonzero(row)] for row in presence]
    info = [symmetry_info(int(sg)) for sg in space_groups]
    metadata = pd.DataFrame({
        "sample_id": [f"demo-{i + 1:05d}" for i in range(n_samples)],
        "formula": [_formula(symbols, rng) for symbols in elements],
        "elements": elements,
        "n_elements": n_elements.astype(np.int16),
        "space_group": space_groups.astype(np.int16),
        "crystal_system": [s.crystal_system for s in info],
        "point_group": [s.point_group for s in info],
        "label": labels,
        "source": DEMO_SOURCE,
        "p_topological": p_topological.astype(np.float64),
    })
    metadata["split"] = assign_splits(metadata, seed)
    report(1.0, "Done")
    return XanesDataset(
        spectra=np.concatenate(spectra),
        sample_index=np.concatenate(sample_rows),
        channel=np.concatenate(channel_rows),
        metadata=metadata,
        provenance={
            "kind": "demo", "name": "synthetic demo data", "n_samples": n_samples, "seed": seed,
            "generator": "xanes_core.data.demo", "model": asdict(model),
            "priors": "element, space-group and element-count class counts of the Materiae catalogue",
        },
    )


def _posterior_log_odds(cells: dict[tuple[int, int], int], n_elements: np.ndarray, presence: np.ndarray,
                        space_groups: np.ndarray, bonding: np.ndarray, bond_length: np.ndarray,
                        model: DemoModel) -> np.ndarray:
    """log P(top | drawn) - log P(trivial | drawn), exactly as the generator drew."""
    with np.errstate(divide="ignore"):
        joint = {label: np.log(np.array([cells.get((int(n), label), 0) for n in n_elements], dtype=float))
                 for label in (0, 1)}
    odds = element_odds(model.composition_strength)
    sg = space_group_probabilities(model.composition_strength)
    log_odds = joint[1] - joint[0]
    log_odds += _log_set_probability(presence, odds[1], n_elements) - _log_set_probability(presence, odds[0], n_elements)
    log_odds += np.log(sg[1][space_groups - 1]) - np.log(sg[0][space_groups - 1])
    # N(x; +d/2, 1) vs N(x; -d/2, 1) has log ratio d * x; bonding is lower for topological.
    log_odds += -model.bonding_separation * bonding + model.bond_length_separation * bond_length
    return log_odds


def bayes_balanced_accuracy(p_topological: np.ndarray, labels: np.ndarray) -> float:
    """Balanced accuracy of the Bayes rule for balanced accuracy: p above the prevalence."""
    p_topological, labels = np.asarray(p_topological), np.asarray(labels)
    predicted = p_topological > labels.mean()
    recall_top = predicted[labels == 1].mean()
    recall_triv = (~predicted[labels == 0]).mean()
    return float((recall_top + recall_triv) / 2)


def ensure_demo(path: str | Path | None = None, progress: Progress | None = None) -> XanesDataset:
    """Load the default demo dataset, building and saving it first if it is not there yet."""
    path = Path(path) if path is not None else default_demo_path()
    if (path / "manifest.json").is_file():
        return XanesDataset.load(path)
    dataset = generate_demo(progress=progress)
    dataset.save(path)
    return dataset
