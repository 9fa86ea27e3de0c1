"""Alignment, matching and batch prediction on real spectra, each against a reference in this process.

Inputs: the 2,589 real FEFF Cu K-edge spectra of ``../shared/data/real_feff`` and the measured /
computed files of ``../shared/fixtures/spectra``.

- ``alignment``: recovery of known shifts (+/-30 eV) of real FEFF spectra, coarse stage and with
  the nearest-spectrum refinement (held-out materials); time of one coarse alignment against
  the reference ``resample`` of the same spectrum onto its grid.
- ``matching_quality``: ranks of the true material under our similarity and under plain
  correlation of the raw curves: measured Cu foil vs the FEFF set (its most metallic members),
  computed Fe metal (mp-13) vs measured Fe spectra, and FEFF spectra made "measured-like"
  (broadened 0.8-2 eV, rescaled, offset by 12-20 eV, noise) against their own set, with and
  without the residual-shift search.
- ``matching_speed``: one search of a 50,000-spectrum library (the FEFF set repeated with small
  random shifts and scales) once loaded, against the reference: one matrix-vector product of
  the query with the library's raw spectra.
- ``batch``: ``predict_manifest`` over real FEFF xmu.dat files with a 1-epoch core CNN on the
  full demo, materials per second after the model is loaded, against ``Predictor.predict`` one
  material at a time.

Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_predict import median_ms  # noqa: E402
from tests.analysis.helpers import library_of_files  # noqa: E402
from tests.sources.feff_files import load_real_feff, write_xmu  # noqa: E402
from xanes_core.analysis.alignment import coarse_shift  # noqa: E402
from xanes_core.analysis.batch import predict_manifest  # noqa: E402
from xanes_core.analysis.matching import SpectrumLibrary  # noqa: E402
from xanes_core.analysis.prediction import Predictor  # noqa: E402
from xanes_core.data.dataset import UNLABELLED, XanesDataset  # noqa: E402
from xanes_core.data.demo import generate_demo  # noqa: E402
from xanes_core.data.elements import channel_index  # noqa: E402
from xanes_core.data.preprocess import resample  # noqa: E402
from xanes_core.io import normalize_for_model, read_spectra, read_spectrum  # noqa: E402
from xanes_core.learn.config import TrainingConfig  # noqa: E402
from xanes_core.learn.training import Trainer  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"
SPECTRA = SHARED / "fixtures" / "spectra"
NEAR_METALLIC_CU = ("mp-1232365", "mp-1213626")  # Cu27CO, Cu64O
N_LARGE = 50_000
N_BATCH = 500


def cu_library(feff, spectra=None, ids=None) -> XanesDataset:
    import pandas as pd

    spectra = np.stack([resample(e, m, "Cu")[0] for e, m in zip(feff.energy, feff.mu)]) if spectra is None else spectra
    ids = list(feff.mp_id) if ids is None else ids
    n = len(spectra)
    metadata = pd.DataFrame({"sample_id": ids, "formula": (list(feff.formula) * (n // len(feff.formula) + 1))[:n],
                             "elements": [["Cu"]] * n, "space_group": 0, "crystal_system": "", "point_group": "",
                             "label": UNLABELLED, "source": "bench", "split": None})
    return XanesDataset(spectra=spectra, sample_index=np.arange(n), channel=np.full(n, channel_index("Cu")),
                        metadata=metadata)


def alignment(feff, dataset) -> dict[str, object]:
    rng = np.random.default_rng(0)
    mean = dataset.spectra.mean(axis=0)
    picks = rng.choice(len(feff.mp_id), 300, replace=False)
    coarse_errors = []
    for i in picks:
        e, m = feff.energy[i].astype(float), feff.mu[i].astype(float)
        base = coarse_shift(e, m, "Cu", mean)
        shift = rng.uniform(-30, 30)
        coarse_errors.append(abs(coarse_shift(e + shift, m, "Cu", mean) - (base - shift)))
    held = picks[:40]
    library = SpectrumLibrary(dataset, np.setdiff1d(np.arange(dataset.n_samples), held))
    refined_errors = []
    for i in held:
        e, m = feff.energy[i].astype(float), feff.mu[i].astype(float)
        base = library.nearest(e, m, "Cu").shift_ev
        for shift in (-30.0, -12.5, 7.5, 30.0):
            refined_errors.append(abs(library.nearest(e + shift, m, "Cu").shift_ev - (base - shift)))
    e, m = feff.energy[0].astype(float), feff.mu[0].astype(float)
    ours, reference = median_ms(lambda: coarse_shift(e, m, "Cu", mean)), median_ms(lambda: resample(e, m, "Cu"))
    return {"coarse_max_error_ev": round(float(max(coarse_errors)), 3), "coarse_cases": len(coarse_errors),
            "refined_max_error_ev": round(float(max(refined_errors)), 3), "refined_cases": len(refined_errors),
            "coarse_ms": ours, "reference_resample_ms": reference, "ratio": round(ours / reference, 1)}


def plain_ranks(library_spectra, query, wanted) -> int:
    score = np.array([np.corrcoef(query, row)[0, 1] for row in library_spectra])
    return int(np.flatnonzero(np.isin(np.argsort(-score, kind="stable"), wanted))[0]) + 1


def real_pairs(feff, dataset) -> dict[str, object]:
    library = SpectrumLibrary(dataset)
    wanted = np.flatnonzero(np.isin(dataset.metadata["sample_id"], NEAR_METALLIC_CU))
    out = {}
    for name in ("xdi/cu_metal_rt.xdi", "athena/cu.prj"):
        foil = normalize_for_model(read_spectra(SPECTRA / name)[0])
        matches = library.match(foil.energy, foil.mu_norm, "Cu", top=dataset.n_samples).matches
        ours = min(k + 1 for k, m in enumerate(matches) if m.sample_id in NEAR_METALLIC_CU)
        plain = plain_ranks(dataset.spectra, resample(foil.energy, foil.mu_norm, "Cu")[0], wanted)
        out[f"cu_foil_{Path(name).stem}"] = {"ours_rank": ours, "plain_rank": plain, "of": dataset.n_samples,
                                            "top2": [m.formula for m in matches[:2]]}
    measured = [*read_spectra(SPECTRA / "athena" / "Fe.prj"), read_spectrum(SPECTRA / "xdi" / "fe2o3_rt.xdi"),
                read_spectrum(SPECTRA / "xdi" / "feo_rt1.xdi")]
    fe = library_of_files(measured)
    computed = normalize_for_model(read_spectrum(SPECTRA / "mp" / "xas.XANES.K.Fe.mp-13.tsv"))
    matches = SpectrumLibrary(fe).match(computed.energy, computed.mu_norm, "Fe", top=len(measured)).matches
    foil = np.flatnonzero(fe.metadata["sample_id"] == "Fe foil")
    out["fe_mp13_vs_measured"] = {
        "ours_rank": 1 + [m.sample_id for m in matches].index("Fe foil"),
        "plain_rank": plain_ranks(fe.spectra, resample(computed.energy, computed.mu_norm, "Fe")[0], foil),
        "of": len(measured), "ours_margin": round(matches[0].similarity - matches[1].similarity, 4)}
    return out


def measured_like(feff, dataset) -> dict[str, object]:
    """FEFF spectra broadened, rescaled, offset and noised, matched back to their own set."""
    from xanes_core.data import similarity

    rng = np.random.default_rng(1)
    library = SpectrumLibrary(dataset)
    picks = rng.choice(len(feff.mp_id), 100, replace=False)
    queries = []
    for i in picks:
        fine = np.arange(feff.energy[i][0], feff.energy[i][-1], 0.1)
        mu = gaussian_filter1d(np.interp(fine, feff.energy[i], feff.mu[i]), rng.uniform(8, 20), mode="nearest")
        mu = rng.uniform(0.7, 1.3) * mu + rng.uniform(-0.05, 0.05) + rng.normal(0, 0.01, mu.size)
        queries.append((i, fine - rng.uniform(12, 20), mu))
    out = {}
    saved = similarity.RESIDUAL_EV
    for label, residual in (("residual_8ev", saved), ("no_residual", 0.0)):
        similarity.RESIDUAL_EV = residual
        ranks = []
        for i, energy, mu in queries:
            matches = library.match(energy, mu, "Cu", top=50).matches
            ids = [m.sample_index for m in matches]
            ranks.append(ids.index(i) + 1 if i in ids else 51)
        out[label] = {"top1": float(np.mean(np.array(ranks) == 1)), "top10": float(np.mean(np.array(ranks) <= 10))}
    similarity.RESIDUAL_EV = saved
    plain = [plain_ranks(dataset.spectra, resample(e, m, "Cu")[0], [i]) for i, e, m in queries[:30]]
    out["plain_correlation_median_rank"] = float(np.median(plain))
    return out


def matching_speed(feff, dataset) -> dict[str, object]:
    rng = np.random.default_rng(2)
    base = rng.integers(0, dataset.n_samples, N_LARGE)
    shifts = rng.uniform(-3, 3, N_LARGE)
    spectra = np.stack([np.interp(dataset.grids[channel_index("Cu")] - s, feff.energy[b], feff.mu[b])
                        for b, s in zip(base, shifts)]).astype(np.float32) * rng.uniform(0.9, 1.1, (N_LARGE, 1)).astype(np.float32)
    large = cu_library(feff, spectra, [f"s{k}" for k in range(N_LARGE)])
    start = time.perf_counter()
    library = SpectrumLibrary(large)
    load_s = time.perf_counter() - start
    foil = normalize_for_model(read_spectrum(SPECTRA / "xdi" / "cu_metal_rt.xdi"))
    ours = median_ms(lambda: library.match(foil.energy, foil.mu_norm, "Cu", top=10))
    query = resample(foil.energy, foil.mu_norm, "Cu")[0]
    reference = median_ms(lambda: large.spectra @ query)
    return {"n_spectra": N_LARGE, "load_s": round(load_s, 2), "search_ms": ours,
            "reference_matvec_ms": reference, "ratio": round(ours / reference, 1)}


def batch(feff, root: Path) -> dict[str, object]:
    demo = generate_demo()
    demo.save(root / "demo")
    final = Trainer(TrainingConfig(dataset=str(root / "demo"), model="core", epochs=1, augment=False),
                    out=root / "run", dataset=demo).start().join()
    if final.status != "completed":
        sys.exit(f"training failed: {final.message}")
    lines = ["material_id,formula,space_group,label,element,file"]
    for k in range(N_BATCH):
        write_xmu(root / "files" / f"{feff.mp_id[k]}.xmu.dat", feff.energy[k], feff.mu[k])
        lines.append(f"{feff.mp_id[k]},{feff.formula[k]},,,Cu,files/{feff.mp_id[k]}.xmu.dat")
    (root / "manifest.csv").write_text("\n".join(lines) + "\n")
    predictor = Predictor(root / "run", dataset=demo)
    start = time.perf_counter()
    result = predict_manifest(predictor, root / "manifest.csv")
    batch_rate = N_BATCH / (time.perf_counter() - start)
    singles = [read_spectrum(root / "files" / f"{feff.mp_id[k]}.xmu.dat") for k in range(50)]
    start = time.perf_counter()
    for spectrum in singles:
        predictor.predict([spectrum])
    single_rate = len(singles) / (time.perf_counter() - start)
    return {"n_materials": N_BATCH, "n_failed": result.n_failed, "materials_per_s": round(batch_rate, 1),
            "reference_single_predict_per_s": round(single_rate, 1), "ratio": round(batch_rate / single_rate, 1)}


def main() -> None:
    feff = load_real_feff(SHARED / "data" / "real_feff")
    dataset = cu_library(feff)
    results = {"alignment": alignment(feff, dataset), "matching_quality": real_pairs(feff, dataset),
               "measured_like": measured_like(feff, dataset), "matching_speed": matching_speed(feff, dataset)}
    with tempfile.TemporaryDirectory() as tmp:
        results["batch"] = batch(feff, Path(tmp))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
