"""Real FEFF spectra written back as the files a user's own FEFF runs leave behind.

``../shared/data/real_feff/`` holds 2,589 real FEFF 9.9.1 Cu K-edge XANES of Materials Project
oxides as arrays (see its SOURCES.md). A user's FEFF run writes ``xmu.dat``; :func:`write_xmu`
writes one such file per spectrum (header with the absorber line FEFF prints, then the columns
omega e k mu mu0 chi), so tests and the benchmark feed the project's readers real spectra in a
real format. Used by tests/sources, tests/app and bench/bench_local_build.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pymatgen.core.periodic_table import Element

from xanes_core.data.elements import k_edge_energy

_HBAR2_2M_EV_A2 = 3.80998  # hbar^2 / 2 m_e in eV Angstrom^2: k = sqrt(e / 3.81)


@dataclass(frozen=True)
class RealFeff:
    """The shared real Cu FEFF spectra: per material id, formula, space group and arrays."""

    mp_id: np.ndarray
    formula: np.ndarray
    space_group: np.ndarray
    energy: np.ndarray  # (n, 173) eV
    mu: np.ndarray  # (n, 173)


def load_real_feff(folder: Path) -> RealFeff:
    with np.load(folder / "cu_feff_materials.npz", allow_pickle=False) as data:
        mp_id, formula, energy, mu = (data[k] for k in ("mp_id", "formula", "energy", "mu"))
    groups = pd.read_csv(folder / "cu_materials_formula_sg.csv").set_index("mp_id")
    space_group = groups.reindex(mp_id)["spacegroup_symprec0.1"].to_numpy()
    return RealFeff(mp_id.astype(str), formula.astype(str), space_group, energy, mu)


def xmu_text(energy: np.ndarray, mu: np.ndarray, element: str = "Cu") -> str:
    """A FEFF ``xmu.dat`` of one spectrum (mu already edge-normalized, as FEFF writes it)."""
    relative = energy - k_edge_energy(element)
    k = np.sign(relative) * np.sqrt(np.abs(relative) / _HBAR2_2M_EV_A2)
    lines = [
        "# Source:  FEFF 9.9.1",
        f"# Abs   Z={Element(element).Z:2d} Rmt= 1.020 Rnm= 1.130 K  shell",
        "#  xsedge+ 50, used to normalize mu           1.0000E+00",
        "#  -----------------------------------------------------------------------",
        "#  omega    e    k    mu    mu0     chi     @#",
    ]
    lines += [f" {w:11.3f} {e:10.3f} {q:7.3f} {m:.5E} {1.0:.5E} {m - 1.0:.5E}"
              for w, e, q, m in zip(energy, relative, k, mu)]
    return "\n".join(lines) + "\n"


def write_xmu(path: Path, energy: np.ndarray, mu: np.ndarray, element: str = "Cu") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(xmu_text(energy, mu, element))
    return path
