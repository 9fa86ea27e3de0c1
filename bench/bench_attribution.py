"""Attribution over energy of a whole test split (target: under 60 s on 2 CPU cores).

Setup (not timed): the full-size demo dataset (3,293 test materials) and a 2-epoch symmetry CNN
of the default architecture (the speed does not depend on how well it is trained), its class
means. Timed in the same process:

- ``attribute_test_s``: :func:`attribute_split` of the test split, 32 integrated-gradient steps
  (wall time, best of 2; ``cpu_s``: the process's CPU time of that best run);
- ``reference_predict_s``: ``predict_proba`` of the same split (one forward pass of every
  material, best of 3), the least any explanation costs; ``ratio`` = attribute / reference;
- ``one_material_ms``: :meth:`Predictor.attribution` of one three-element material, median of
  20 after a warm-up call (the Predict page's cost);
- the demo ground truth of this run: elements with a class-free range and 20+ test spectra, and
  the smallest ratio of attribution per grid point inside / outside the class-carrying ranges.

Prints one JSON object.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from timing import best_of, demo_run

from xanes_core.analysis.attribution import attribute_split, class_means_for
from xanes_core.analysis.indicators import element_indicators
from xanes_core.analysis.prediction import Predictor
from xanes_core.learn.features import pack
from xanes_core.learn.runs import load_run

STEPS = 32


def _timed(function) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def measure(root: Path) -> dict[str, object]:
    dataset, run_dir = demo_run(root, epochs=2)
    run = load_run(run_dir)
    means = class_means_for(run, dataset)
    X = pack(dataset, run.splits["test"])
    reference = best_of(lambda: run.classifier.predict_proba(X), repeat=3)
    attempts = [_timed(lambda: attribute_split(run, dataset, "test", means, STEPS)) for _ in range(2)]
    wall, cpu, attribution = min(attempts, key=lambda t: t[0])
    predictor = Predictor(run_dir, dataset=dataset)
    sizes = dataset.metadata["elements"].map(len).to_numpy()
    sample = next(int(i) for i in run.splits["test"] if sizes[i] == 3)
    prediction = predictor.predict_sample(dataset, sample)
    predictor.attribution(prediction)
    one = statistics.median(_timed(lambda: predictor.attribution(prediction))[0] for _ in range(20))
    checked = [i for i in element_indicators(attribution, means).values()
               if i.density_ratio is not None and i.n_spectra >= 20]
    return {
        "test_materials": int(run.splits["test"].size), "steps": STEPS,
        "attribute_test_s": round(wall, 2), "cpu_s": round(cpu, 2),
        "reference_predict_s": round(reference, 3), "ratio": round(wall / reference, 1),
        "one_material_ms": round(1000 * one, 1),
        "completeness_error": round(attribution.completeness_error, 5),
        "spectra_effect": round(attribution.spectra_effect, 4),
        "ground_truth_elements": len(checked),
        "smallest_density_ratio": round(min(i.density_ratio for i in checked), 2),
    }


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        print(json.dumps(measure(Path(folder)), indent=2))
