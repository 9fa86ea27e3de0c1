"""Where, per element, a Materials Project FEFF K-edge spectrum sits and what it looks like.

FEFF places its edges with atomic Dirac-Fock total energies, not with the tabulated K edges
(xraydb / Elam) that fix this project's grids; the FEFF documentation says the error "varies
from a few eV at low Z to a few hundred eV for very large Z". Measured on real FEFF spectra
(E0 = maximum of the derivative, as :func:`xanes_core.io.detect.find_e0` finds it), as
E0 - tabulated K edge, and E0 - FEFF's Fermi level:

- Cu, 2,589 OmniXAS FEFF spectra of oxides (``../shared/data/real_feff``): median +18.0 eV
  (IQR 14.2 to 20.2); by oxidation state Cu(I) +13.3, Cu(II) +17.8, Cu(III) +20.6; 10.8 eV
  above the Fermi level (median).
- Co, Materials Project LiCoO2 (pymatgen test file, a shared fixture): +19.2 eV; Co3O4 Co(III)
  site (pymatgen test file ``site2_k_xanes``): +20.2 eV; 12.8 and 14.7 eV above the Fermi level.
- Fe, Materials Project mp-13 Fe metal (veidt, a shared fixture): +17.6 eV; 8.2 eV.
- Mn, FEFF MnO-type Mn(II) (trixs, a shared fixture): +13.3 eV; 9.5 eV.
- Pd, Materials Project Pd2O (pymatgen test file): +24.8 eV; 0.8 eV.
- O, FEFF 9 ``xmu.dat`` of a cobalt oxide (pymatgen, a shared fixture): -10.4 eV; -0.8 eV.

Cu, Co and Fe use their measured medians (:data:`MEASURED_E0_OFFSETS_EV`). Every other
element uses a smooth, physical model, :func:`modelled_e0_offset`:

``E0 - E_K = delta(Z) + chemical shift + gas-phase reference correction``

- ``delta(Z) = 1.28 + 0.00943 Z^2`` eV: FEFF's absolute-energy error, growing with Z like the
  relativistic core-level corrections it approximates; least-squares fit to Mn, Co (twice), Cu
  and Pd after removing each one's chemical shift (for Cu, the zero-valence intercept of its
  per-oxidation-state medians).
- chemical shift: 3.72 eV per unit of formal oxidation state for d- and f-block elements (the
  slope of those Cu medians), times the element's mean positive oxidation state in the ICSD
  (pymatgen's bond-valence statistics); for s- and p-block elements 1.5 eV per unit of the
  element's mean signed ICSD oxidation state (measured K-edge shifts of S, P and Si are 1.3-2
  eV per unit), so anions such as S, Se shift slightly down.
- N, O, F: -9.3 eV, because their tabulated K edges are gas-phase values about 10 eV above the
  edges of nitrides, oxides and fluorides (fitted on the O fixture).

Generalization (errors are model minus measured): with ``delta`` fitted on Cu alone (``a = 0``)
the model gives Mn +1.6, Co +0.6 and -0.4, Pd +4.1 eV; leaving each element out of the full fit:
Mn +1.9, Co -0.2 and -1.2, Pd +13.5 eV (Z^2 curvature from 3d elements alone overshoots 4d).
With each element's typical ICSD valence instead of the material's own (what the demo uses):
Fe -0.1, Co -2.7, Cu -3.1, Mn +3.7 (its Mn(II) file), Pd +4.7 eV. Heavier than Pd the model
is an extrapolation; past Z ~ 70 FEFF's edge, and its whole data window, lies above E_K + 65
eV, the end of this project's element grids, so those demo spectra are flat: values held at
the window's first point, coverage 0.

Every spectrum's data window is Materials Project's: from 2.44 eV below FEFF's Fermi level
(k = -0.8 / Angstrom) to 52.7 eV above it (k = 3.72 / Angstrom), 55.2 eV in all.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from xanes_core.data.elements import WINDOW_EV, normalize_symbol

MEASURED_E0_OFFSETS_EV = {"Cu": 18.0, "Co": 19.7, "Fe": 17.6}
FEFF_SCALE_EV = (1.28, 0.00943)  # delta(Z) = a + b * Z**2
SHIFT_PER_VALENCE_D_EV = 3.72
SHIFT_PER_VALENCE_SP_EV = 1.5
GAS_REFERENCE_EV = {"N": -9.3, "O": -9.3, "F": -9.3}
FERMI_GAP_3D_EV = 10.8  # E0 - Fermi level in 3d compounds (Cu median; Mn, Fe, Co 8-15)
FERMI_GAP_OTHER_EV = 1.0  # elsewhere the edge rises at the Fermi level (O -0.8, Pd 0.8)
WINDOW_BELOW_FERMI_EV = 2.44  # k = -0.8 / Angstrom
WINDOW_LENGTH_EV = 55.16  # to k = 3.72 / Angstrom above the Fermi level

# Where class information lives, relative to each spectrum's own E0 (eV); below: pre-edge.
WHITE_LINE_EV = (-4.0, 8.0)
OSCILLATION_EV = (8.0, 55.0)


@dataclass(frozen=True)
class EdgeModel:
    """One element's FEFF K-edge description, energies relative to its tabulated K edge."""

    symbol: str
    z: int
    e0_offset_ev: float  # median E0 - E_K
    e0_spread_ev: float  # standard deviation of the class-independent chemical shift
    fermi_gap_ev: float  # E0 - Fermi level
    core_hole_ev: float  # K-level width (Lorentzian FWHM), xraydb
    bond_length_a: float  # nominal first-shell distance
    is_3d: bool
    source: str  # "measured" or "model"


@dataclass(frozen=True)
class EnergyRange:
    """A named energy range of one element's demo spectra, in absolute eV."""

    name: str
    low_ev: float
    high_ev: float
    carries_class: bool
    why: str


@lru_cache(maxsize=1)
def _icsd_oxidation_states() -> dict[str, Counter]:
    """element -> Counter(oxidation state -> number of ICSD sites), pymatgen's bond-valence data."""
    from pymatgen.core.bond_valence import all_data

    states: dict[str, Counter] = {}
    for species, count in all_data["occurrence"].items():
        symbol, magnitude, sign = re.fullmatch(r"([A-Z][a-z]?)([0-9.]*)([+-])", species).groups()
        value = float(magnitude or 1) * (1 if sign == "+" else -1)
        states.setdefault(symbol, Counter())[value] += count
    return states


def _mean_valence(symbol: str, positive_only: bool) -> float:
    counts = _icsd_oxidation_states().get(symbol)
    if not counts:  # not in the ICSD statistics (Tc, Os, Pt, Au, Pa, Np, Pu): pymatgen's common states
        from pymatgen.core.periodic_table import Element

        counts = Counter(Element(symbol).common_oxidation_states)
    kept = {v: n for v, n in counts.items() if v > 0 or not positive_only}
    total = sum(kept.values())
    return sum(v * n for v, n in kept.items()) / total if total else 0.0


def _d_or_f_block(z: int) -> bool:
    return 21 <= z <= 30 or 39 <= z <= 48 or 57 <= z <= 80 or z >= 89


def modelled_e0_offset(symbol: str) -> float:
    """The smooth model's median E0 - E_K (eV) for any channel (see the module docstring)."""
    from pymatgen.core.periodic_table import Element

    symbol = normalize_symbol(symbol)
    z = Element(symbol).Z
    a, b = FEFF_SCALE_EV
    if _d_or_f_block(z):
        chemical = SHIFT_PER_VALENCE_D_EV * _mean_valence(symbol, positive_only=True)
    else:
        chemical = SHIFT_PER_VALENCE_SP_EV * _mean_valence(symbol, positive_only=False)
    return a + b * z * z + chemical + GAS_REFERENCE_EV.get(symbol, 0.0)


@lru_cache(maxsize=None)
def edge_model(symbol: str) -> EdgeModel:
    """The FEFF edge description of one channel element."""
    import xraydb
    from pymatgen.core.periodic_table import Element

    symbol = normalize_symbol(symbol)
    element = Element(symbol)
    is_3d = 21 <= element.Z <= 30
    anion = _mean_valence(symbol, positive_only=False) < 0
    measured = MEASURED_E0_OFFSETS_EV.get(symbol)
    return EdgeModel(
        symbol=symbol, z=element.Z,
        e0_offset_ev=measured if measured is not None else modelled_e0_offset(symbol),
        e0_spread_ev=2.5 if _d_or_f_block(element.Z) else 2.0,
        fermi_gap_ev=FERMI_GAP_3D_EV if is_3d else FERMI_GAP_OTHER_EV,
        core_hole_ev=float(xraydb.core_width(symbol, "K")),
        bond_length_a=float(element.atomic_radius or 1.5) + (1.3 if anion else 0.6),
        is_3d=is_3d, source="measured" if measured is not None else "model",
    )


def class_signal_ranges(symbol: str) -> list[EnergyRange]:
    """Which energy ranges of an element's demo spectra carry class information, and which not.

    Per spectrum, class information sits at fixed distances from its own E0: the white line
    (E0 - 4 to E0 + 8 eV) and the post-edge oscillations (E0 + 8 eV to the window's end); the
    pre-edge and E0 itself (the chemical shift) are drawn independently of the class. On the
    element's grid those ranges blur by the E0 spread (two standard deviations) and the
    core-hole width, so the absolute ranges returned here are widened by that much; they are
    centred on the element's median E0 and clipped to the grid (E_K - 10 to E_K + 65 eV).
    Below FEFF's window values are held at its first point; that point counts as pre-edge
    unless the core-hole broadening reaches it from the white line (heavy elements, whose
    edge then lies beyond the grid: one range, "held window start", with class information).
    """
    from xanes_core.data.elements import k_edge_energy

    model = edge_model(symbol)
    edge = k_edge_energy(model.symbol)
    grid_low, grid_high = edge + WINDOW_EV[0], edge + WINDOW_EV[1]
    e0 = edge + model.e0_offset_ev
    start = e0 - model.fermi_gap_ev - WINDOW_BELOW_FERMI_EV
    if start > grid_high:
        return [EnergyRange("held window start", grid_low, grid_high, True,
                            "FEFF's window starts above the grid; its first value mixes in the white line")]
    blur = 2 * model.e0_spread_ev + model.core_hole_ev
    onset_is_clean = model.fermi_gap_ev + WINDOW_BELOW_FERMI_EV + 3.0 >= 4 * model.core_hole_ev
    ranges = [
        EnergyRange("pre-edge", grid_low if onset_is_clean else start + blur, e0 + WHITE_LINE_EV[0] - blur, False,
                    "Fermi-level onset, 3d shoulder and 1s-3d peak, drawn independently of the class"),
        EnergyRange("white line", e0 + WHITE_LINE_EV[0] - blur, e0 + WHITE_LINE_EV[1], True,
                    "its height follows the `bonding` latent (class means differ)"),
        EnergyRange("post-edge oscillation", e0 + OSCILLATION_EV[0], grid_high, True,
                    "its period follows the `bond_length` latent: first-shell distance R in sin(2kR)"),
    ]
    clipped = [EnergyRange(r.name, max(r.low_ev, grid_low), min(r.high_ev, grid_high), r.carries_class, r.why)
               for r in ranges]
    return [r for r in clipped if r.low_ev < r.high_ev]
