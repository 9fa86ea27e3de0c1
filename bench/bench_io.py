"""Readers on hostile input: each pathological ~5 MB case against a same-size normal file.

The cases are tests/io/pathological.py's (the test bounds their CPU time; this measures it).
Reference, in the same process: reading a well-formed file of the same size (a 10-channel column
scan, and an Athena project of ~110 groups), which is what an honest upload of that size costs;
``ratio`` = case / reference, so a ratio well above 1 marks a reader doing more per byte on
hostile input than on real input. Times are CPU seconds of this thread (``time.thread_time``),
best of 3. Also one real file as the old test in tests/io measured it: ``read_spectrum`` of
cu_metal_rt.xdi against ``np.loadtxt`` of the same file, wall time, best of 20. Prints one JSON
object.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from timing import best_of  # noqa: E402
from tests.io.pathological import CASES, normal_athena, normal_columns, read  # noqa: E402
from xanes_core.io import read_spectra, read_spectrum  # noqa: E402

XDI = REPO.parent / "shared" / "fixtures" / "spectra" / "xdi" / "cu_metal_rt.xdi"


def main() -> None:
    columns, athena = normal_columns(), normal_athena()
    reference = {
        "normal_columns_5mb_s": best_of(lambda: read_spectra(columns, "scan.dat"), clock=time.thread_time),
        "normal_athena_5mb_s": best_of(lambda: read_spectra(athena, "project.prj"), clock=time.thread_time),
    }
    slowest = max(reference.values())
    cases = {}
    for case in CASES:
        raw = case.build()
        seconds = best_of(lambda c=case, r=raw: read(c, r), clock=time.thread_time)
        cases[case.id] = {"mb": round(len(raw) / 2**20, 2), "cpu_s": round(seconds, 3),
                          "ratio_to_normal": round(seconds / slowest, 2), "refused": read(case, raw).refused}
    worst = max(cases, key=lambda k: cases[k]["cpu_s"])
    read_spectrum(XDI)  # warm-up: the edge table is built on the first read
    real = {"read_spectrum_cu_metal_rt_xdi_ms": round(1000 * best_of(lambda: read_spectrum(XDI), 20), 2),
            "np_loadtxt_same_file_ms": round(1000 * best_of(lambda: np.loadtxt(XDI, comments="#"), 20), 2)}
    real["ratio"] = round(real["read_spectrum_cu_metal_rt_xdi_ms"] / real["np_loadtxt_same_file_ms"], 2)
    print(json.dumps({
        "reference_cpu_s": {k: round(v, 3) for k, v in reference.items()},
        "worst_case": {"id": worst, **cases[worst]},
        "cases": cases,
        "real_file": real,
    }, indent=2))


if __name__ == "__main__":
    main()
