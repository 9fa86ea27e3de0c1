"""Reading and predicting one uploaded file with a loaded run (target: under 200 ms).

Setup (not timed): the full-size demo dataset and a 1-epoch symmetry CNN (default architecture,
so the model is the size a real run has; the training set for the nearest-materials search has
the paper's size). Timed, median of repeats after one warm-up call:

- ``read_predict_ms``: ``read_spectrum(path)`` + ``Predictor.predict`` for a computed file
  (Materials Project JSON, Co), a measured file (XDI, Fe, normalized with larch) and both
  together (three model inputs in one batch for the contributions);
- ``reference_model_call_ms``: the bare Keras call on one prepared sample in the same process,
  the least any prediction costs; ``ratio`` = read_predict / reference.

Prints one JSON object.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from timing import demo_run

from xanes_core.analysis.prediction import Predictor
from xanes_core.data.elements import channel_index
from xanes_core.io import read_spectrum
from xanes_core.learn.architecture import model_inputs
from xanes_core.learn.features import pack_rows, standardize

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "spectra"
FILES = {"computed_mp_json": [FIXTURES / "mp" / "LiCoO2_k_xanes.json"],
         "measured_xdi": [FIXTURES / "xdi" / "fe2o3_rt.xdi"],
         "two_files": [FIXTURES / "mp" / "LiCoO2_k_xanes.json", FIXTURES / "xdi" / "fe2o3_rt.xdi"]}
SPACE_GROUP = 166
REPEAT = 30


def median_ms(function, repeat: int = REPEAT) -> float:
    function()  # warm-up: lazy imports (larch) and first-call set-up are not per-upload costs
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return round(1000 * statistics.median(times), 2)


def measure(root: Path) -> dict[str, object]:
    dataset, run_dir = demo_run(root, epochs=1)

    start = time.perf_counter()
    predictor = Predictor(run_dir, dataset=dataset)
    load_s = time.perf_counter() - start

    def predict(paths: list[Path]) -> None:
        predictor.predict([read_spectrum(path) for path in paths], space_group=SPACE_GROUP)

    cases = {name: median_ms(lambda paths=paths: predict(paths)) for name, paths in FILES.items()}
    classifier = predictor.run.classifier
    cobalt = read_spectrum(FILES["computed_mp_json"][0])
    prepared = predictor.predict([cobalt], space_group=SPACE_GROUP).spectra["Co"]
    X = pack_rows(prepared.mu[None, :], np.array([channel_index("Co")]), np.array([0]), 1, np.array([SPACE_GROUP]))
    inputs = model_inputs(standardize(X, classifier.standardizer_), "symmetry")
    reference = median_ms(lambda: classifier.model_(inputs, training=False))
    return {
        "dataset_samples": dataset.n_samples,
        "training_neighbours": int(predictor.run.splits["train"].size),
        "predictor_load_s": round(load_s, 3),
        "read_predict_ms": cases,
        "reference_model_call_ms": reference,
        "ratio": {name: round(ms / reference, 2) for name, ms in cases.items()},
        "target_ms": 200,
        "meets_target": all(ms < 200 for ms in cases.values()),
    }


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-predict-") as tmp:
        print(json.dumps(measure(Path(tmp)), indent=2))


if __name__ == "__main__":
    main()
