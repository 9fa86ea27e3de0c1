"""Draw the README's picture: demo spectra beside real Materials Project K-edge XANES.

Run from the repository root: ``python docs/make_figures.py`` (needs ../shared/fixtures for the
real spectra). A static PNG is drawn with matplotlib so the README renders anywhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from xanes_core.data.demo import generate_demo  # noqa: E402
from xanes_core.data.elements import energy_grid, k_edge_energy  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "fixtures" / "spectra" / "mp"


def _real_spectra() -> dict[str, tuple[np.ndarray, np.ndarray, str]]:
    rows = [line.split("\t") for line in (FIXTURES / "xas.XANES.K.Fe.mp-13.tsv").read_text().splitlines()[4:]]
    fe = np.array([[float(r[0]), float(r[1])] for r in rows if len(r) > 1 and r[0].strip()])
    co = json.loads((FIXTURES / "LiCoO2_k_xanes.json").read_text())
    return {"Fe": (fe[:, 0], fe[:, 1], "Fe (mp-13), Materials Project"),
            "Co": (np.array(co["x"]), np.array(co["y"]), "LiCoO$_2$ Co, Materials Project")}


def main() -> None:
    demo = generate_demo(n_samples=2000, seed=0)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for axis, (symbol, (energy, mu, label)) in zip(axes, _real_spectra().items()):
        grid = energy_grid(symbol)
        rows = demo.element_rows(symbol)[:6]
        for i, row in enumerate(rows):
            cls = demo.metadata.label[demo.sample_index[row]]
            axis.plot(grid, demo.spectra[row], color="tab:red" if cls else "tab:blue", alpha=0.6, lw=1,
                      label=("demo: topological" if cls else "demo: trivial") if i < 2 else None)
        axis.plot(energy, mu, color="black", lw=2, label=label)
        axis.axvline(k_edge_energy(symbol), color="grey", ls=":", lw=1)
        axis.set_xlabel(f"{symbol} K-edge energy (eV)")
        axis.set_title(f"{symbol} K edge: synthetic demo data vs real")
        axis.legend(fontsize=7, loc="lower right")
    axes[0].set_ylabel(r"$\mu(E)$ (edge-step units)")
    fig.tight_layout()
    out = ROOT / "docs" / "demo_vs_materials_project.png"
    fig.savefig(out, dpi=130)
    print(out)


if __name__ == "__main__":
    main()
