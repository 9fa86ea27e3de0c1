"""What a split's attribution says per element: how much its spectrum matters, where in energy,
and, on the demo, whether that is where the generator put the class information.

- ``mass_per_spectrum``: the mean over the element's spectra of the summed absolute attribution
  (probability units): how spectrally informative the element is, normalized by how often it
  occurs (the periodic table of the Results page).
- ``top_ranges_ev``: the energy ranges (absolute eV, on the element's grid) holding the most
  absolute attribution: the grid points where it reaches :data:`PEAK_FRACTION` of its maximum,
  joined into ranges across gaps of up to :data:`JOIN_POINTS` points, largest summed attribution
  first, at most :data:`N_TOP_RANGES`. A flat element (no edge on its grid) has one range, the
  whole grid.
- On the demo, against :func:`xanes_core.data.demo.class_signal_ranges` (the generator's ground
  truth): ``informative_share``, the fraction of the absolute attribution inside the ranges
  that carry class information; ``grid_share``, the fraction of grid points inside them; and
  ``density_ratio``, attribution per grid point inside them over attribution per grid point in
  the ranges that carry none (pre-edge, chemical shift). ``None`` where the data are not the
  demo's, and ``density_ratio`` also where the grid holds no class-free range (N, O, F, heavy
  elements). Grid points in neither kind of range (a held value the core-hole broadening may
  mix with the white line) count in the share's total only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from xanes_core.analysis.attribution import SplitAttribution, e0_reference
from xanes_core.data.class_means import ClassMeans
from xanes_core.data.dataset import CLASS_NAMES
from xanes_core.data.elements import CHANNELS, energy_grid

PEAK_FRACTION = 0.25
JOIN_POINTS = 2
N_TOP_RANGES = 3


@dataclass(frozen=True)
class ElementIndicator:
    """One element's summary of a split's attribution (see module doc)."""

    element: str
    n_spectra: int
    mass_per_spectrum: float
    e0_ev: float | None
    flat: bool
    top_ranges_ev: list[list[float]]
    informative_share: float | None
    grid_share: float | None
    density_ratio: float | None

    def to_dict(self) -> dict:
        return asdict(self)


def top_ranges(energy: np.ndarray, magnitude: np.ndarray) -> list[list[float]]:
    """[low, high] eV of the ranges holding the most of ``magnitude`` (see module doc)."""
    peak = float(magnitude.max(initial=0.0))
    if peak <= 0:
        return []
    points = np.flatnonzero(magnitude >= PEAK_FRACTION * peak)
    breaks = np.flatnonzero(np.diff(points) > JOIN_POINTS + 1)
    starts = np.concatenate([[points[0]], points[breaks + 1]])
    ends = np.concatenate([points[breaks], [points[-1]]])
    masses = [float(magnitude[s:e + 1].sum()) for s, e in zip(starts, ends)]
    ranked = np.argsort(masses, kind="stable")[::-1][:N_TOP_RANGES]
    return [[round(float(energy[starts[r]]), 2), round(float(energy[ends[r]]), 2)] for r in ranked]


def demo_signal_masks(element: str) -> tuple[np.ndarray, np.ndarray]:
    """(carries class, carries none): grid-point masks of the demo generator's energy ranges."""
    from xanes_core.data.demo import class_signal_ranges

    grid = energy_grid(element)
    masks = {True: np.zeros(grid.size, dtype=bool), False: np.zeros(grid.size, dtype=bool)}
    for energy_range in class_signal_ranges(element):
        masks[energy_range.carries_class] |= (grid >= energy_range.low_ev) & (grid <= energy_range.high_ev)
    return masks[True], masks[False] & ~masks[True]


def _demo_shares(element: str, magnitude: np.ndarray) -> tuple[float | None, float | None, float | None]:
    informative, uninformative = demo_signal_masks(element)
    total = float(magnitude.sum())
    if total <= 0:
        return None, float(informative.mean()), None
    share = float(magnitude[informative].sum() / total)
    ratio = None
    if informative.any() and uninformative.any():
        outside = float(magnitude[uninformative].mean())
        ratio = float(magnitude[informative].mean() / outside) if outside > 0 else float("inf")
    return share, float(informative.mean()), ratio


def element_indicator(attribution: SplitAttribution, means: ClassMeans, element: str) -> ElementIndicator:
    magnitude = attribution.magnitude_profile(element)
    grid = energy_grid(element)
    flat = means.is_flat(element)
    share, grid_share, ratio = _demo_shares(element, magnitude) if attribution.is_demo else (None, None, None)
    return ElementIndicator(
        element=element, n_spectra=attribution.n_spectra(element),
        mass_per_spectrum=float(attribution.mass_per_spectrum(element) or 0.0), e0_ev=e0_reference(means, element),
        flat=flat, top_ranges_ev=[[float(grid[0]), float(grid[-1])]] if flat else top_ranges(grid, magnitude),
        informative_share=share, grid_share=grid_share, density_ratio=ratio)


def element_indicators(attribution: SplitAttribution, means: ClassMeans,
                       element: str | None = None) -> dict[str, ElementIndicator]:
    """Every element with spectra in the split (or only ``element``), in channel order."""
    present = [e for e in CHANNELS if attribution.n_spectra(e) > 0]
    chosen = present if element is None else [e for e in present if e == element]
    return {e: element_indicator(attribution, means, e) for e in chosen}


def attribution_table(attribution: SplitAttribution, means: ClassMeans, element: str | None = None) -> pd.DataFrame:
    """Long table, one row per element and grid point: ``element, energy_ev, energy_minus_e0_ev``
    and ``mean_attribution_<class>`` per class (mean signed attribution over that class's spectra;
    empty where the split has none)."""
    frames = []
    for symbol, indicator in element_indicators(attribution, means, element).items():
        grid = energy_grid(symbol)
        columns = {"element": symbol, "energy_ev": grid,
                   "energy_minus_e0_ev": grid - indicator.e0_ev if indicator.e0_ev is not None else np.nan}
        for label in attribution.classes:
            mean = attribution.mean_attribution(symbol, int(label))
            columns[f"mean_attribution_{CLASS_NAMES[int(label)]}"] = mean if mean is not None else np.nan
        frames.append(pd.DataFrame(columns))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["element", "energy_ev"])


def signal_ranges(element: str, is_demo: bool) -> list:
    """The demo generator's energy ranges of ``element`` (shaded in the figures); [] off the demo."""
    if not is_demo:
        return []
    from xanes_core.data.demo import class_signal_ranges

    return class_signal_ranges(element)


def informative_values(attribution: SplitAttribution) -> tuple[dict[str, float], dict[str, int]]:
    """(element -> absolute attribution per spectrum, element -> number of spectra) for the
    periodic table; elements without spectra in the split are left out (no data)."""
    present = [e for e in CHANNELS if attribution.n_spectra(e) > 0]
    return ({e: float(attribution.mass_per_spectrum(e)) for e in present},
            {e: attribution.n_spectra(e) for e in present})


def indicator_table(indicators: dict[str, ElementIndicator]) -> pd.DataFrame:
    """One row per element for pages and the report, most informative first; ranges as text."""
    rows = [{"element": i.element, "spectra": i.n_spectra, "|attribution| per spectrum": i.mass_per_spectrum,
             "E0 reference (eV)": i.e0_ev, "top ranges (eV)": "; ".join(f"{low:,.1f}-{high:,.1f}"
                                                                        for low, high in i.top_ranges_ev),
             "informative share": i.informative_share, "grid share": i.grid_share,
             "density ratio": i.density_ratio}
            for i in indicators.values()]
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    if table["informative share"].isna().all():  # not the demo: no ground truth to compare with
        table = table.drop(columns=["informative share", "grid share", "density ratio"])
    return table.sort_values("|attribution| per spectrum", ascending=False, ignore_index=True)
