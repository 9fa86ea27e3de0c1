"""Draw the README's picture: the synthetic demo beside real FEFF K-edge XANES, and where FEFF
puts each element's edge.

Run from the repository root: ``python docs/make_figures.py`` (needs ``../shared`` for the real
spectra). Prints the calibration numbers quoted in the README. A static PNG is drawn with
matplotlib so the README renders anywhere.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from pymatgen.core.periodic_table import Element  # noqa: E402

from xanes_core.data.demo import generate_demo  # noqa: E402
from xanes_core.data.demo.feff import MEASURED_E0_OFFSETS_EV, modelled_e0_offset  # noqa: E402
from xanes_core.data.elements import CHANNELS, energy_grid, k_edge_energy  # noqa: E402
from xanes_core.data.preprocess import resample  # noqa: E402
from xanes_core.io.detect import find_e0  # noqa: E402
from xanes_core.io.reader import read_spectrum  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
MP_DOCUMENTS = {"Co": ("LiCoO2_k_xanes.json", "LiCoO2"), "Fe": ("xas.XANES.K.Fe.mp-13.tsv", "mp-13 Fe metal")}


def _real_cu() -> tuple[np.ndarray, float]:
    """The 2,589 real FEFF Cu spectra on the Cu grid, and their median E0 - E_K."""
    with np.load(SHARED / "data" / "real_feff" / "cu_feff_materials.npz", allow_pickle=False) as npz:
        energy, mu = npz["energy"].astype(float), npz["mu"].astype(float)
    on_grid = np.array([resample(e, m, "Cu")[0] for e, m in zip(energy, mu)])
    e0 = np.median([find_e0(e, m) for e, m in zip(energy, mu)]) - k_edge_energy("Cu")
    return on_grid, float(e0)


def _real_document(symbol: str) -> tuple[np.ndarray, float]:
    """One Materials Project document on its element's grid (edge step 1), and its E0 - E_K."""
    spectrum = read_spectrum(SHARED / "fixtures" / "spectra" / "mp" / MP_DOCUMENTS[symbol][0])
    on_grid, _ = resample(spectrum.energy, spectrum.mu, symbol)
    step = spectrum.mu[-max(spectrum.mu.size // 5, 1):].mean()
    return on_grid / step, find_e0(spectrum.energy, spectrum.mu) - k_edge_energy(symbol)


def _demo_panel(axis, demo, symbol: str, real: np.ndarray, real_label: str, real_e0: float) -> None:
    grid = energy_grid(symbol) - k_edge_energy(symbol)
    spectra = demo.spectra[demo.element_rows(symbol)]
    e0 = np.median([find_e0(grid, s) for s in spectra])
    mean = spectra.mean(axis=0)
    low, high = np.percentile(spectra, [10, 90], axis=0)
    axis.fill_between(grid, low, high, color="tab:orange", alpha=0.25, lw=0, label="demo: 10-90 %")
    axis.plot(grid, mean, color="tab:orange", lw=2, label=f"demo mean (E0 {e0:+.1f} eV)")
    if real.ndim == 2:
        r_low, r_high = np.percentile(real, [10, 90], axis=0)
        axis.fill_between(grid, r_low, r_high, color="black", alpha=0.12, lw=0, label="real: 10-90 %")
        real = real.mean(axis=0)
    r = np.corrcoef(mean, real)[0, 1]
    axis.plot(grid, real, color="black", lw=1.6, label=f"{real_label} (E0 {real_e0:+.1f} eV)")
    axis.axvline(0, color="grey", ls=":", lw=1)
    axis.set_title(f"{symbol} K edge (E_K = {k_edge_energy(symbol):.0f} eV): r = {r:.2f}", fontsize=9)
    axis.set_xlabel(r"$E - E_K$ (eV)")
    axis.legend(fontsize=6.5, loc="lower right")
    print(f"{symbol}: demo E0 {e0:+.1f} eV, real {real_e0:+.1f} eV, mean-spectrum r = {r:.3f}")


def _edge_offset_panel(axis) -> None:
    z = [Element(s).Z for s in CHANNELS]
    axis.plot(z, [modelled_e0_offset(s) for s in CHANNELS], ".-", color="tab:orange", lw=1, ms=4,
              label="smooth model (used where no real data)")
    measured = {**MEASURED_E0_OFFSETS_EV, "Mn": 13.3, "Pd": 24.8, "O": -10.4}
    axis.plot([Element(s).Z for s in measured], list(measured.values()), "ks", ms=5,
              label="real FEFF (Cu, Co, Fe: used; Mn, Pd, O: checks)")
    for symbol, value in measured.items():
        axis.annotate(symbol, (Element(symbol).Z, value), textcoords="offset points", xytext=(4, -9), fontsize=7)
    axis.axhspan(-10, 65, color="tab:blue", alpha=0.07, label="element grid: E_K - 10 to E_K + 65 eV")
    axis.set_xlabel("atomic number Z")
    axis.set_ylabel(r"FEFF $E_0 - E_K$ (eV)")
    axis.set_title("Where FEFF puts the K edge", fontsize=9)
    axis.legend(fontsize=6.5, loc="upper left")


def main() -> None:
    demo = generate_demo()
    cu, cu_e0 = _real_cu()
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.2))
    _demo_panel(axes[0, 0], demo, "Cu", cu, "2,589 real FEFF Cu oxides, mean", cu_e0)
    for axis, symbol in zip((axes[0, 1], axes[1, 0]), ("Co", "Fe")):
        real, e0 = _real_document(symbol)
        _demo_panel(axis, demo, symbol, real, f"Materials Project {MP_DOCUMENTS[symbol][1]}", e0)
    _edge_offset_panel(axes[1, 1])
    for axis in (axes[0, 0], axes[1, 0]):
        axis.set_ylabel(r"$\mu(E)$ (edge-step units)")
    fig.suptitle("Synthetic demo data vs real FEFF K-edge XANES", fontsize=11)
    fig.tight_layout()
    out = ROOT / "docs" / "demo_vs_materials_project.png"
    fig.savefig(out, dpi=130)
    print(out)


if __name__ == "__main__":
    main()
